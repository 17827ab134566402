"""``POST /api/v1/intake/suggestions`` (helper suggesting fills this in)."""

from flask import Blueprint

bp = Blueprint("intake_suggestions", __name__)
