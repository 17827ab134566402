"""Errors of the JSON API: always ``{"error": {"code", "message", "fields"}}``, never a page.

``code`` is stable (clients branch on it), ``message`` is in the reader's language,
``fields`` names what was wrong with which input. A service's refusal (``DomainError``)
reads as the web reads it: a refusal about one input (``field``) is a 422, any other a
409; a lost race on a case's version is a 409 ``stale_version``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.db import db
from portal.errors import API_ERROR_CODES, DomainError

log = logging.getLogger(__name__)

STATUS_CODES = API_ERROR_CODES  # HTTP status -> the stable code a bare HTTP error carries


def status_messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Check what you sent."),
        401: _("Send a valid personal access token: Authorization: Bearer <token>."),
        403: _("Your token may not do this."),
        404: _("There is no such thing here, or you may not see it."),
        405: _("This address does not accept that kind of request."),
        409: _("The request conflicts with a change made meanwhile."),
        413: _("What you sent is larger than the portal accepts."),
        415: _("Send the request body as JSON (Content-Type: application/json)."),
        422: _("Some of what you sent is not valid."),
        429: _("Too many requests with this token. Wait a little and try again."),
        500: _("The portal hit an error. Nothing was saved."),
    }


class ApiError(Exception):
    """An answer other than success, with its stable code (raised by the API's views)."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(code or STATUS_CODES.get(status, str(status)))
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message or status_messages().get(status, "")
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(bp: Blueprint) -> None:
    """The blueprint's own handlers: they win over the portal's pages for ``/api/v1``."""

    @bp.errorhandler(ApiError)
    def api_error(error: ApiError):
        db.session.rollback()
        return error_response(error.status, error.code, error.message, error.fields,
                              error.headers)

    @bp.errorhandler(DomainError)
    def refused(error: DomainError):
        db.session.rollback()
        log.info("api: refused: %s", type(error).__name__)
        if error.field:
            return error_response(422, "validation_failed", error.message,
                                  {error.field: error.message})
        return error_response(409, "refused", error.message)

    @bp.errorhandler(StaleDataError)
    def stale(error: StaleDataError):
        db.session.rollback()
        return error_response(409, "stale_version", _(
            "Someone else changed this at the same moment, so nothing was saved. "
            "Read it again, then try again if it still applies."))

    @bp.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        return error_response(400, "csrf_failed", _(
            "A browser session is not a way into the API: send a personal access token."))

    @bp.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded):
        from portal.extensions import limiter

        headers = {}
        current = limiter.current_limit
        if current is not None:
            import time

            headers["Retry-After"] = str(max(1, int(current.reset_at - time.time()) + 1))
        else:
            headers["Retry-After"] = "60"
        return error_response(429, "rate_limited", status_messages()[429], headers=headers)

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status < 400:
            return error
        if status >= 500:
            db.session.rollback()
            log.error("api: %s on an API request", status)
        headers = {}
        if status == 405 and error.get_headers():
            headers = {k: v for k, v in error.get_headers() if k == "Allow"}
        return error_response(status, STATUS_CODES.get(status, "error"),
                              status_messages().get(status, error.description or ""),
                              headers=headers)

    @bp.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        log.exception("api: unhandled error")
        return error_response(500, "server_error", status_messages()[500])
