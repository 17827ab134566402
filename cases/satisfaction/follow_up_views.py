"""The follow-up call queue (回访) /ratings/follow-up."""

from cases.satisfaction import bp  # noqa: F401
