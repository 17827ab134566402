"""The rating link /rate/<token> and the signed-in owner's rating on the case page."""

from cases.satisfaction import bp  # noqa: F401
