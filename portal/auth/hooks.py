"""Hooks on web accounts: a forced password change, and client merges and anonymisation.

- An account an admin forced to change its password (``users.must_change_password``) is
  sent to the change-password page from every page but that one, the e-mailed reset
  link, sign-out, the language switch and static files, until it has a new password.
  The flag clears itself when the password hash changes, however it changes (the
  password page, a reset link): a ``before_flush`` listener here, so the password code
  need not know of it (``set_new_password`` clears it too).
- When their client is merged or anonymised (``portal.signals``), the accounts follow.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, flash, redirect, request, session, url_for
from flask.signals import request_started
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from portal.auth.sessions import end_sessions
from portal.changes import record_rows
from portal.db import db
from portal.models import User
from portal.signals import Erasure, client_anonymised, client_merged

# What an account that must change its password may still open.
OPEN_WHILE_RESETTING = frozenset(
    {"auth.change_password", "auth.reset_password", "auth.logout", "main.set_language",
     "main.healthz", "static"}
)

ANONYMOUS_ACCOUNT = "已注销用户"
UNUSABLE_PASSWORD = "!"  # noqa: S105 (matches no password: not a werkzeug hash)


@client_merged.connect
def move_accounts(survivor: Any, *, merged: Any, actor: User) -> dict[str, Any]:
    """The merged record's representatives sign in to the survivor's record."""
    moved = db.session.scalars(
        update(User)
        .where(User.client_id == merged.id)
        .values(client_id=survivor.id)
        .returning(User.id)
    ).all()
    record_rows(User, moved)  # a bulk UPDATE: the change feed hears of it here
    return {"accounts": len(moved)}


@client_anonymised.connect
def scrub_accounts(client: Any, *, erasure: Erasure, actor: User) -> None:
    """The person's accounts are disabled, emptied and signed out everywhere at once."""
    if not erasure.account_ids:
        return
    for user in db.session.scalars(select(User).where(User.id.in_(erasure.account_ids))):
        user.username = f"deleted-{user.id}"
        user.display_name = ANONYMOUS_ACCOUNT
        user.email = None
        user.phone = None
        user.locale = None
        user.active = False
        user.password_hash = UNUSABLE_PASSWORD
        end_sessions(user)


# --- a forced password change -------------------------------------------------------------


@request_started.connect
def require_new_password(app: Flask, **_extra: Any) -> None:
    """Send an account that must change its password to the password page.

    Connected to ``request_started`` (every application, every request, before the
    ``before_request`` functions): the redirect leaves as an HTTP exception carrying it.
    """
    endpoint = request.endpoint
    if endpoint is None or endpoint in OPEN_WHILE_RESETTING:
        return
    user = current_user
    if not (user.is_authenticated and user.must_change_password):
        return
    message = _("An administrator asks you to choose a new password before you go on.")
    if not any(text == message for _category, text in session.get("_flashes", [])):
        flash(message, "warning")
    abort(redirect(url_for("auth.change_password")))


@event.listens_for(Session, "before_flush")
def _clear_forced_reset(session: Session, _context: object, _instances: object) -> None:
    # A new password hash fulfils the admin's demand, whoever set it and how.
    for obj in session.dirty:
        if (
            isinstance(obj, User)
            and obj.must_change_password
            and inspect(obj).attrs.password_hash.history.has_changes()
        ):
            obj.must_change_password = False
