"""A department's own list of ratings /ratings."""

from cases.satisfaction import bp  # noqa: F401
