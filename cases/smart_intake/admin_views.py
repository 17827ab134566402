"""Admin pages of intake settings, urgency words and accuracy in use (helper suggesting)."""

from flask import Blueprint

bp = Blueprint("intake_admin", __name__, url_prefix="/admin/intake")
