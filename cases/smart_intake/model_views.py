"""Admin pages of trained model versions (helper learning fills this in)."""

from flask import Blueprint

bp = Blueprint("intake_models", __name__, url_prefix="/admin/intake/models")
