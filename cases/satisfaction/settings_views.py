"""Admins' satisfaction settings and dimensions."""

from cases.satisfaction import bp  # noqa: F401
