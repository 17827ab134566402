"""Home page, health check and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from portal.auth.services import safe_next_url
from portal.db import db
from portal.forms import LanguageForm

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    return render_template("main/index.html")


@bp.route("/healthz")
def healthz():
    """200 once the database answers; 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy" (the 503 rolls back)
        return jsonify({"status": "unavailable", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "ok"})


@bp.route("/language", methods=["POST"])
def set_language():
    """Store the chosen language in the session and, when signed in, on the account."""
    form = LanguageForm()
    locale = request.form.get("locale", "")
    if not form.validate_on_submit() or locale not in current_app.config["LANGUAGES"]:
        return redirect(safe_next_url(request.form.get("next")) or "/")
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
    return redirect(safe_next_url(request.form.get("next")) or "/")
