"""Personal access tokens: made, listed, revoked by their owner; checked by the JSON API.

A token is ``pat_`` and 43 random URL-safe characters. Only a keyed hash (HMAC-SHA256
under the application's ``SECRET_KEY``) and the first ``PREFIX_LENGTH`` characters (to
tell tokens apart on the account page) are stored; the token itself is shown once.
A token acts as its owner, never more: a disabled owner's token opens nothing, and the
``read`` scope takes no step (``write`` does).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from portal.auth.tokens import AccessToken
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User
from portal.permissions import is_signed_in

log = logging.getLogger(__name__)

TOKEN_PREFIX = "pat_"  # noqa: S105  (the tokens' visible kind, no secret)
PREFIX_LENGTH = 12
SCOPES = ("read", "read write")
MAX_TOKENS = 20  # live tokens per person
MAX_DAYS = 366
NAME_LENGTH = 100
# ``last_used_at`` is written at most this often per token (not on every request).
USE_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """The keyed hash stored for ``token`` (and looked up by)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"access-token:" + token.encode(), hashlib.sha256).hexdigest()


def live_tokens_query(user_id: int):
    now = utcnow()
    return (
        select(AccessToken)
        .where(
            AccessToken.user_id == user_id,
            AccessToken.revoked_at.is_(None),
            (AccessToken.expires_at.is_(None)) | (AccessToken.expires_at > now),
        )
        .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
    )


def tokens_of(user: User) -> list[AccessToken]:
    """Every token of ``user``, newest first (revoked and expired ones too)."""
    stmt = (
        select(AccessToken)
        .where(AccessToken.user_id == user.id)
        .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
        .limit(200)
    )
    return list(db.session.scalars(stmt))


def create_token(user: User, name: str, scopes: str, days: int | None) -> tuple[AccessToken, str]:
    """A new token for ``user``; returns the row and the token (shown once, never stored)."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the token a name, to know later what uses it."), field="name")
    if len(name) > NAME_LENGTH:
        raise DomainError(_("The name may have at most %(n)d characters.", n=NAME_LENGTH),
                          field="name")
    if scopes not in SCOPES:
        raise DomainError(_("Choose what the token may do."), field="scopes")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise DomainError(_("A token lasts 1 to %(n)d days.", n=MAX_DAYS), field="days")
    live = len(list(db.session.scalars(live_tokens_query(user.id))))
    if live >= MAX_TOKENS:
        raise DomainError(_("You have %(n)d live tokens; revoke one first.", n=live))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AccessToken(
        user_id=user.id,
        name=name,
        prefix=token[:PREFIX_LENGTH],
        token_hash=token_hash(token),
        scopes=scopes,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.session.add(row)
    db.session.flush()
    log.info("user %s made access token %s", user.id, row.id)
    return row, token


def revoke_token(user: User, token_id: int) -> AccessToken:
    """Revoke one of ``user``'s own tokens (another's is as if it did not exist)."""
    row = db.session.get(AccessToken, token_id)
    if row is None or row.user_id != user.id:
        raise DomainError(_("There is no such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
        log.info("user %s revoked access token %s", user.id, row.id)
    return row


def is_live(row: AccessToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


# Built once, one statement for the token and its owner: every API request runs it (a
# statement built and keyed anew, then the owner's own load, cost ~1.5 ms of CPU).
_TOKEN_AND_OWNER = (
    select(AccessToken, User)
    .join(User, User.id == AccessToken.user_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


def token_user(token: str) -> tuple[AccessToken, User] | None:
    """The live token and its signed-in-able owner for ``token``; None for anything else
    (unknown, revoked, expired, or its owner disabled)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = db.session.execute(_TOKEN_AND_OWNER, {"token_hash": token_hash(token)}).first()
    now = utcnow()
    if found is None:
        return None
    row, user = found
    if not is_live(row, now) or not is_signed_in(user):
        return None
    if row.last_used_at is None or row.last_used_at < now - USE_RESOLUTION:
        row.last_used_at = now
    return row, user


def has_scope(row: AccessToken, scope: str) -> bool:
    return scope in row.scopes.split()
