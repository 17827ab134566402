"""``POST /api/v1/intake/suggestions``: the likeliest categories for a request's words.

Two ways in (docs/API.md, "Intake suggestions"):

* a personal access token (``Authorization: Bearer``) of intake staff (clerks,
  supervisors, admins): no CSRF token needed, surface ``api``;
* a signed-in browser session (the filing forms' script): the session's CSRF token must
  come in ``X-CSRFToken`` (or the form field), checked before anything else; intake staff
  (surface ``clerk``) and clients who may file (surface ``citizen``).

Filing needs an account (``/requests/new`` is behind the sign-in), so nobody anonymous
asks. Every answer is counted per token, user or address (``INTAKE_SUGGEST_RATE_LIMIT``,
in the limiter's shared storage). Errors take the API's shape.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from cases.api.auth import bearer_token
from cases.api.errors import STATUS_CODES, ApiError, error_response, status_messages
from cases.smart_intake.predict import suggest
from cases.smart_intake.suggestions import TOKEN_LENGTH, record_shown
from cases.smart_intake.urgency import urgency_hint
from portal.auth.token_services import token_user
from portal.extensions import csrf, limiter
from portal.models import User
from portal.params import parse_int
from portal.permissions import can_file_case, is_intake_staff

bp = Blueprint("intake_suggestions", __name__)

DEFAULT_RATE_LIMIT = "120 per minute"
TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 5000


def rate_limit() -> str:
    return current_app.config.get("INTAKE_SUGGEST_RATE_LIMIT") or DEFAULT_RATE_LIMIT


def rate_key() -> str:
    """Counted per token (a digest), else per signed-in user, else per address."""
    token = bearer_token()
    if token:
        return "intake-suggest:token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"intake-suggest:user:{current_user.get_id()}"
    return "intake-suggest:addr:" + (get_remote_address() or "")


def caller() -> tuple[User, str]:
    """Who asks and on which surface; raises the API's 400/401/403 otherwise."""
    token = bearer_token()
    if token is not None:
        found = token_user(token)
        if found is None:
            raise ApiError(401, "invalid_token", headers={
                "WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
        user = found[1]
        if not is_intake_staff(user):
            raise ApiError(403, "forbidden", _("Only intake staff may ask for suggestions "
                                               "with a token."))
        return user, "api"
    csrf.protect()  # a session: the page's CSRF token, before anything else
    if not current_user.is_authenticated:
        raise ApiError(401, "unauthorized", _("Sign in, or send a personal access token."),
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    user = current_user._get_current_object()
    if is_intake_staff(user):
        return user, "clerk"
    if can_file_case(user):
        return user, "citizen"
    raise ApiError(403, "forbidden", _("You may not ask for intake suggestions."))


def _text(data, name: str, limit: int, fields: dict[str, str]) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        fields[name] = _("Send text.")
        return ""
    value = value.strip()
    if len(value) > limit:
        fields[name] = _("At most %(n)d characters.", n=limit)
    return value


def read_request() -> tuple[str, str, int | None, str | None, str | None]:
    """Title, description, district id, wanted surface and the previous list's token."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(400, "bad_json", _("Send the request body as a JSON object."))
    else:
        data = request.form
    fields: dict[str, str] = {}
    title = _text(data, "title", TITLE_LENGTH, fields)
    description = _text(data, "description", DESCRIPTION_LENGTH, fields)
    district_raw = data.get("district_id")
    district_id = None
    if district_raw not in (None, ""):
        district_id = parse_int(district_raw) if not isinstance(district_raw, bool) else None
        if district_id is None:
            fields["district_id"] = _("Send a district's id (a whole number) or nothing.")
    surface = data.get("surface") or None
    if surface is not None and surface not in ("clerk", "api"):
        fields["surface"] = _("Send clerk, api or nothing.")
    token = data.get("token") or None
    if token is not None and (not isinstance(token, str) or len(token) > TOKEN_LENGTH):
        fields["token"] = _("Send the token of the previous answer, or nothing.")
    if not fields and not (title or description):
        message = _("Write a title or a description first.")
        fields = {"title": message, "description": message}
    if fields:
        raise ApiError(422, "validation_failed", fields=fields)
    return title, description, district_id, surface, token


@bp.route("/api/v1/intake/suggestions", methods=["POST"])
@csrf.exempt  # a bearer token needs none; a session's is checked in ``caller``
@limiter.limit(rate_limit, key_func=rate_key)
def suggest_categories():
    """The three likeliest categories with their departments, best first, and the
    urgency words found; the list shown is recorded (its ``token`` goes with the form)."""
    user, surface = caller()
    title, description, district_id, wanted, previous = read_request()
    if wanted and surface != "citizen":
        surface = wanted
    result = suggest(title, description, k=3, district_id=district_id)
    hint = urgency_hint(f"{title}\n{description}")
    row = record_shown(result, hint, surface, user, previous)
    response = jsonify({
        "suggestions": [
            {"category": s.category_path, "department": s.department_name, "score": s.score,
             "category_id": s.category_id, "department_id": s.department_id, "rank": rank}
            for rank, s in enumerate(result.items, start=1)
        ],
        "token": row.token if row else None,
        "version": result.version,
        "urgent": hint.urgent,
        "priority": hint.priority.value if hint.priority else None,
        "priority_label": str(hint.priority.label) if hint.priority else None,
        "words": hint.words,
    })
    response.headers["Cache-Control"] = "no-store"
    return response


# --- errors: the API's shape -----------------------------------------------------------


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    return error_response(400, "csrf_failed", _(
        "Send the page's CSRF token in the X-CSRFToken header, or a personal access token."))


@bp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded):
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time()) + 1) if current is not None else 60
    return error_response(429, "rate_limited", _(
        "Too many requests for suggestions. Wait a little and try again."),
        headers={"Retry-After": str(wait)})


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    if status < 400:
        return error
    return error_response(status, STATUS_CODES.get(status, "error"),
                          status_messages().get(status, error.description or ""))


@bp.app_template_global("intake_auto_routing")
def intake_auto_routing():
    """The auto-routing settings, for the clerk's "let the portal route" box."""
    from cases.smart_intake.settings import intake_settings

    return intake_settings()
