"""Error pages in both languages, or JSON for API clients; domain errors."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from portal.db import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no; the message is for the user, already translated."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, if any


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def concurrent_change_message() -> str:
    return _(
        "Someone else changed this at the same moment, so nothing was saved. "
        "Reload the page to see what it is now, then try again if it still applies."
    )


def error_messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Check what you sent.")),
        403: (_("Not allowed"), _("You do not have permission to see this page.")),
        404: (_("Page not found"), _("The page you asked for does not exist.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        409: (_("Changed meanwhile"), _("The request conflicts with a change made meanwhile.")),
        413: (_("Too large"), _("What you sent is larger than the portal accepts.")),
        429: (_("Too many attempts"), _("You have tried too often. Wait a little and try again.")),
        500: (_("Something went wrong"), _("The portal hit an error. Nothing you saved is lost.")),
    }


# HTTP status -> the stable code the JSON API's errors carry (``cases/api``), also when an
# error under /api/ is answered here (a routing miss before any API view).
API_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
}


def render_error(code: int, description: str | None = None, unsaved: str | None = None):
    """The error page (or JSON); ``unsaved`` hands back text the user typed, to copy."""
    messages = error_messages()
    title, text = messages.get(code, (str(code), ""))
    if description:
        text = description
    if request.path.startswith("/api/"):  # the API's documented shape
        return jsonify({"error": {"code": API_ERROR_CODES.get(code, "error"),
                                  "message": text or title, "fields": {}}}), code
    if wants_json():
        return jsonify({"error": {"code": code, "title": title, "description": text}}), code
    return render_template(
        "errors/error.html", code=code, title=title, text=text, unsaved=unsaved
    ), code


def readable_size(size: int) -> str:
    """``64 MB``, ``10 KB`` or ``900 B`` (binary units, rounded down)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size // factor} {unit}"
    return f"{size} B"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400, _("The form has expired or was not sent from this site. Please try again.")
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        # The body was refused unread; the page's own forms (CSRF token, language switch)
        # would try to read it again and turn this 413 into a 500, so they see none.
        request.form = ImmutableMultiDict()
        request.files = ImmutableMultiDict()
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return render_error(
            413,
            _(
                "What you sent is larger than the portal accepts (at most %(size)s).",
                size=readable_size(limit),
            ),
        )

    @app.errorhandler(StaleDataError)
    def concurrent_change(error: StaleDataError):
        # Someone else changed the same record between our read and our write (a second
        # click, a colleague at the same instant): theirs stands, ours is undone whole.
        db.session.rollback()
        log.info("concurrent change refused on %s %s", request.method, request.path)
        return render_error(409, concurrent_change_message())

    @app.errorhandler(DomainError)
    def refused(error: DomainError):
        # A service said no and no form took the message up (see portal.transactions
        # form_errors): nothing is saved, and the user reads why.
        db.session.rollback()
        log.info("refused on %s %s: %s", request.method, request.path, type(error).__name__)
        return render_error(409, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 500:
            return server_error(error)
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
