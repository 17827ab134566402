"""Administration: staff accounts (categories, routing and calendars come with the case engine)."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import views  # noqa: E402,F401  (routes register on import)
