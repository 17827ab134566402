"""Account rules: throttled sign-in, safe redirects, staff creation.

Passwords live in ``portal.auth.passwords``; clients register in the clients room
(``citizens.registration``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth.passwords import check_password_rules, find_user, hash_password
from portal.auth.throttle import forget_failures, minutes_blocked, record_failure
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import DEPARTMENT_ROLES, Department, Role, User

log = logging.getLogger(__name__)

# Checked against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH: dict[str, str] = {}


class LoginRefused(DomainError):
    pass


class LoginThrottled(LoginRefused):
    """Too many failures from this address for this name: wait (HTTP 429)."""


def authenticate(username: str, password: str, address: str | None = None) -> User:
    """The user these credentials belong to, unless this address is throttled.

    The same message is given for an unknown user and a wrong password, and the same
    throttle answer for any name, so the form does not tell which usernames exist.
    Failures count per ``address`` and name (``portal.auth.throttle``).
    """
    minutes = minutes_blocked(address, username)
    if minutes:
        raise LoginThrottled(
            _("Too many failed sign-in attempts. Try again in %(minutes)d min.", minutes=minutes)
        )
    user = find_user(username)
    wrong = LoginRefused(_("The username or password is wrong."))
    if user is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash("x", method=method))
        check_password_hash(dummy, password)
        record_failure(address, username)
        raise wrong
    if not check_password_hash(user.password_hash, password):
        record_failure(address, username)
        raise wrong
    if not user.active:
        raise LoginRefused(_("This account is disabled."))
    # Before the flush: on SQLite the limiter's own transaction must not wait for ours.
    forget_failures(address, username)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it stays on this site (a path), else None: no open redirects."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def username_taken(username: str) -> bool:
    return find_user(username) is not None


def create_staff_user(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    department: Department | None = None,
    email: str | None = None,
) -> User:
    """Create a staff account; handlers and department heads must have a department."""
    if role.is_client:
        raise DomainError(_("Clients register themselves; choose a staff role."), field="role")
    if role in DEPARTMENT_ROLES and department is None:
        raise DomainError(
            _("Handlers and department heads belong to a department."), field="department"
        )
    if username_taken(username):
        raise DomainError(_("This username is taken. Choose another."), field="username")
    check_password_rules(password, [username, display_name, email])
    user = User(
        username=username.strip(),
        password_hash=hash_password(password),
        role=role,
        display_name=display_name.strip(),
        department=department,
        email=email,
    )
    db.session.add(user)
    db.session.flush()
    return user
