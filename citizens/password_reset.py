"""Recovering a password with a code sent by SMS, for a client or a staff member.

The person gives the mobile number on their account (with their username when several
accounts share it). If exactly one active account has that number — the account's own,
or for a client account without one its client record's — a 6-digit code goes to it
(``phone_codes.purpose = "reset"``, the caps and HMAC of ``citizens.phone_verification``);
the code and a new password then set the password and end every sign-in. The answers
are the same whether or not such an account exists. Flushes, never commits.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from citizens.account_services import normalise_cn_phone
from citizens.models import Client
from citizens.phone_verification import (
    MOBILE_RE,
    RESET,
    PhoneCodeLimit,
    issue_code,
    live_code,
    use_code,
)
from portal.auth.passwords import message_locale, set_new_password
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

log = logging.getLogger(__name__)

EVENT = "password_reset_sms"  # the outbox rows' event


class CodeRefused(DomainError):
    """The code is wrong, expired, used or tried too often — or there is no such account:
    one answer for all (nothing to enumerate)."""


def _refused() -> CodeRefused:
    return CodeRefused(
        _("This code is not right or no longer valid. Check the text message or ask for "
          "a new code."),
        field="code",
    )


def mobile(value: str | None) -> str | None:
    """``value`` as a stored mainland mobile number, else None."""
    phone = normalise_cn_phone(value)
    return phone if phone and MOBILE_RE.match(phone) else None


def account_for_phone(phone: str | None, username: str | None = None) -> User | None:
    """The one active account with this mobile (and this username, if given), else None."""
    if not phone:
        return None
    stmt = (
        select(User)
        .outerjoin(Client, Client.id == User.client_id)
        .where(
            User.active.is_(True),
            or_(User.phone == phone, and_(User.phone.is_(None), Client.phone == phone)),
        )
        .order_by(User.id)
        .limit(2)
    )
    name = (username or "").strip().lower()
    if name:
        stmt = stmt.where(func.lower(User.username) == name)
    found = db.session.scalars(stmt).all()
    return found[0] if len(found) == 1 else None


def send_reset_code(phone_given: str, username: str | None, fallback_locale: str) -> bool:
    """Text a reset code to the account with this number, if there is exactly one and
    the caps allow; whether one went out (never shown to the asker)."""
    phone = mobile(phone_given)
    user = account_for_phone(phone, username)
    if user is None or phone is None:
        return False
    try:
        issue_code(user, phone, RESET, EVENT, message_locale(user, fallback_locale))
    except PhoneCodeLimit:  # refused before anything is written: say nothing
        log.info("password reset code for account %s refused: caps reached", user.id)
        return False
    return True


def reset_with_code(phone_given: str, username: str | None, code: str, new: str) -> User | None:
    """Set ``new`` as the password of the account the code was sent to; None when the
    code is wrong (the guess is counted: the caller commits it).

    Raises ``CodeRefused`` (no live code, no such account, tried too often),
    ``PhoneCodeLimit`` (the day's wrong guesses for the number are spent) and
    ``PasswordRefused`` (the password is too weak for this account).
    """
    phone = mobile(phone_given)
    user = account_for_phone(phone, username)
    row = live_code(user, RESET) if user is not None else None
    if user is None or row is None or row.phone != phone:
        raise _refused()
    try:
        right = use_code(user, row, code)
    except PhoneCodeLimit:
        raise
    except DomainError as error:
        raise _refused() from error
    if not right:
        return None
    set_new_password(user, new)  # every sign-in ends
    client = user.client
    if client is not None and client.phone == phone and client.phone_verified_at is None:
        client.phone_verified_at = utcnow()  # the code proved the number
    db.session.flush()
    log.info("user %s reset their password by SMS code %s", user.id, row.id)
    return user
