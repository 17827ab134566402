"""The in-app inbox and the message templates (being written)."""

from portal.notifications import bp  # noqa: F401
