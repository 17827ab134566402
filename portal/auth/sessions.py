"""Server-side sign-ins: a session cookie opens pages only while its row says so.

Signing in writes a ``user_sessions`` row and puts only a random token in the (signed)
session cookie, where Flask-Login keeps the user id; the row holds the token's SHA-256.
Each request finds the user through the row, so signing out, a password change, an
admin's "sign out everywhere", disabling or anonymising an account end a session at once,
even in a cookie copied earlier.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, event, inspect, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.db import db, utcnow
from portal.models import User, UserSession

log = logging.getLogger(__name__)

# last_seen_at is written at most this often per session (one UPDATE, not one per request).
TOUCH_INTERVAL = timedelta(minutes=5)
# Revoked and expired rows are kept this long (someone may ask "where was I signed in?").
KEEP_ENDED = timedelta(days=7)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed session cookie, its serializer built once per set of keys.

    Flask builds one on each read and each write of the cookie (~25 µs each, twice a
    request); it holds nothing but the keys and settings, so one serves every request
    while ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` stay the same."""

    _held: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        held = self._held
        if held is None or held[0] != keys:
            held = self._held = (keys, super().get_signing_serializer(app))
        return held[1]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, user_agent: str | None = None) -> str:
    """Open a sign-in for ``user``; returns the token the session cookie carries."""
    now = utcnow()
    _prune(user, now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + current_app.permanent_session_lifetime,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    db.session.flush()
    return token


def open_session(user: User) -> None:
    """Sign ``user`` in, in this browser, with a server-side session."""
    token = start_session(user, request.user_agent.string)
    login_user(user)
    # Flask-Login keeps "_user_id" in the cookie and hands it to the user loader: it
    # carries the sign-in's random token, never the bare user id.
    session["_user_id"] = token


# Built once: every signed-in request runs it, and SQLAlchemy keeps a statement's cache key
# with the statement (building and keying it anew cost ~0.3 ms of CPU a request).
_LIVE_SESSION = (
    select(User, UserSession)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)


def user_for_token(token: str | None) -> User | None:
    """The active user whose live sign-in ``token`` names, else None (one query)."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    row = db.session.execute(
        _LIVE_SESSION, {"token_hash": token_hash(token), "now": now}
    ).first()
    if row is None:
        return None
    user, user_session = row
    g.user_session = user_session
    if now - user_session.last_seen_at > TOUCH_INTERVAL:
        _touch(user_session.id, now)
    return user


def _touch(session_id: int, now) -> None:
    # Its own short transaction: a GET commits nothing, and a request that rolls back
    # was still seen. Losing one touch is harmless, so a busy database is not an error.
    try:
        with db.engine.begin() as conn:
            conn.execute(
                update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
            )
    except SQLAlchemyError:
        log.warning("could not record activity of session %s", session_id, exc_info=True)


def current_session() -> UserSession | None:
    """The sign-in this request was made with (None when signed out)."""
    return g.get("user_session")


def end_session(token: str | None) -> None:
    """Sign out: the session with this token opens nothing any more."""
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        db.session.flush()


def end_sessions(user: User, keep: UserSession | None = None) -> int:
    """End every sign-in of ``user`` but ``keep``; how many were ended.

    Called when the password changes (keeping the browser that changed it), when a reset
    link is used, an account is disabled or anonymised, or an admin signs a user out.
    """
    stmt = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    ended = db.session.execute(
        stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    if ended:
        log.info("ended %d session(s) of user %s", ended, user.id)
    return ended


@event.listens_for(Session, "after_flush")
def _end_sessions_of_disabled_accounts(session: Session, _context: object) -> None:
    # Whoever disables an account (an admin page, anonymisation, a script), its sign-ins
    # end in the same transaction: enabling it again does not bring them back.
    disabled = [
        obj.id
        for obj in session.dirty
        if isinstance(obj, User) and not obj.active and inspect(obj).attrs.active.history.deleted
    ]
    if disabled:
        session.connection().execute(
            update(UserSession)
            .where(UserSession.user_id.in_(disabled), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def _prune(user: User, now) -> None:
    # Cheap and bounded: only this user's rows (indexed by user_id), at each sign-in.
    db.session.execute(
        delete(UserSession)
        .where(
            UserSession.user_id == user.id,
            or_(
                UserSession.expires_at < now - KEEP_ENDED,
                UserSession.revoked_at < now - KEEP_ENDED,
            ),
        )
        .execution_options(synchronize_session=False)
    )
