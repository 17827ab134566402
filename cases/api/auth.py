"""Who calls the API: the owner of the personal access token in ``Authorization: Bearer``.

Nothing else signs a request in: a browser's session cookie opens no API route (and a
POST carrying one without a CSRF token is refused as the web refuses it, before anything
else). The reference and the OpenAPI document are public. ``api_user()`` is the token's
owner, for the views and the services; flask-login's ``current_user`` is set to the same
user for this request, so code that reads it reads the token's owner.
"""

from __future__ import annotations

import hashlib

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from cases.api.errors import ApiError
from portal.auth.token_services import has_scope, token_user
from portal.models import User

PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.reference"})
DEFAULT_RATE_LIMIT = "300 per minute"


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``, if the header has that form."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT


def rate_key() -> str:
    """Requests are counted per token (a digest of it), or per address without one."""
    token = bearer_token()
    if token:
        return "api-token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "api-addr:" + (get_remote_address() or "")


def authenticate() -> None:
    """The blueprint's ``before_request``: resolve the token, or answer 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    token = bearer_token()
    if token is None:
        _refuse_cookie_posts()
        raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="api"'})
    found = token_user(token)
    if found is None:
        raise ApiError(401, "invalid_token", headers={
            "WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
    g.api_token, g.api_user = found
    g._login_user = found[1]  # flask-login's current_user, for this request only


def _refuse_cookie_posts() -> None:
    """A browser POST (it carries the session cookie) without a CSRF token: 400 as on the
    web, so a page on another site can never make a signed-in browser act here."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if current_app.config.get("SESSION_COOKIE_NAME", "session") not in request.cookies:
        return
    from portal.extensions import csrf

    csrf.protect()


def api_user() -> User:
    return g.api_user


def require_write() -> None:
    """Steps and reveals need a token with the ``write`` scope."""
    if not has_scope(g.api_token, "write"):
        raise ApiError(403, "insufficient_scope", fields={"scope": "write"})
