"""Admin pages of history imports (helper import fills this in)."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")
