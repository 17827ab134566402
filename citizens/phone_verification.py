"""6-digit codes sent by SMS: verifying a client's phone, and (``purpose="reset"``,
``citizens.password_reset``) recovering a password.

The code lives on the server (``PhoneCode``): only its HMAC (keyed with the app's secret,
bound to the account and the number), its expiry and the guesses made. The session keeps
nothing, so replaying an old cookie gains no guesses. Guesses are capped per code (counted
by a conditional UPDATE, so parallel requests cannot exceed it), per account and per number
across accounts; codes sent are capped per account and per number. A code proves only the
number it was sent to, once. The text message is stored with the code masked; the real
text is sealed for delivery only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select, update

from citizens.models import Client, PhoneCode
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User
from portal.notifications.models import MessageChannel
from portal.notifications.outbox import queue_message
from portal.notifications.texts import message_text

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5  # guesses at one code
MAX_WRONG_PER_NUMBER = 10  # wrong guesses at one number in a day, whichever account guesses
MAX_WRONG_PER_ACCOUNT = 10  # wrong guesses by one account in a day
CODES_PER_HOUR = 5  # codes sent to one account, and to one number
CODES_PER_DAY = 10
DAY = timedelta(hours=24)
MASK = "******"
MOBILE_RE = re.compile(r"^1\d{10}$")
VERIFY, RESET = "verify", "reset"  # phone_codes.purpose


class PhoneCodeLimit(DomainError):
    """Too many codes sent or wrong guesses made: the view answers 429."""


def _digest(user_id: int, phone: str, code: str, purpose: str = "verify") -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    # A code for one purpose is worth nothing for another.
    scope = "phone-code" if purpose == VERIFY else f"phone-code-{purpose}"
    message = f"{scope}:{user_id}:{phone}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _codes_since(where: ColumnElement[bool], since) -> int:
    return db.session.scalar(
        select(func.count()).select_from(PhoneCode).where(where, PhoneCode.created_at > since)
    ) or 0


def _wrong_guesses(where: ColumnElement[bool]) -> int:
    """Wrong guesses in the last day: every guess counts, but the right one of a used code."""
    guesses, used = db.session.execute(
        select(
            func.coalesce(func.sum(PhoneCode.attempts), 0),
            func.count(PhoneCode.consumed_at),
        ).where(where, PhoneCode.created_at > utcnow() - DAY)
    ).one()
    return int(guesses) - int(used)


def _check_guess_budget(user_id: int, phone: str) -> None:
    if (
        _wrong_guesses(PhoneCode.phone == phone) >= MAX_WRONG_PER_NUMBER
        or _wrong_guesses(PhoneCode.user_id == user_id) >= MAX_WRONG_PER_ACCOUNT
    ):
        raise PhoneCodeLimit(
            _("Too many wrong codes have been entered for this number. Try again tomorrow."),
            field="code",
        )


def send_phone_code(user: User, locale: str) -> PhoneCode:
    """Write an SMS with a fresh code to the client's mobile; older codes stop working."""
    client: Client | None = user.client
    if client is None or not client.phone:
        raise DomainError(_("Give a mobile phone number first."), field="phone")
    if not MOBILE_RE.match(client.phone):
        raise DomainError(_("A code can only be sent to a mobile number."), field="phone")
    return issue_code(user, client.phone, VERIFY, "verify_phone", locale)


def issue_code(user: User, phone: str, purpose: str, event: str, locale: str) -> PhoneCode:
    """Write an SMS with a fresh code for ``purpose`` to ``phone`` (a mobile) under the
    caps per account and per number (every purpose counts); the account's older codes
    for that purpose stop working. ``event`` names the outbox row."""
    now = utcnow()
    for where in (PhoneCode.user_id == user.id, PhoneCode.phone == phone):
        if (
            _codes_since(where, now - timedelta(hours=1)) >= CODES_PER_HOUR
            or _codes_since(where, now - DAY) >= CODES_PER_DAY
        ):
            raise PhoneCodeLimit(
                _("Too many codes have been sent to this number. Try again later."),
                field="phone",
            )
    _check_guess_budget(user.id, phone)
    # A new code replaces the older ones: they expire now.
    db.session.execute(
        update(PhoneCode)
        .where(
            PhoneCode.user_id == user.id,
            PhoneCode.purpose == purpose,
            PhoneCode.consumed_at.is_(None),
            PhoneCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = PhoneCode(
        user_id=user.id,
        phone=phone,
        purpose=purpose,
        code_hash=_digest(user.id, phone, code, purpose),
        attempts=0,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    db.session.add(row)
    # The same text twice: with the code (sealed, for the gateway only) and masked. The
    # text says only "your code is …": it serves every purpose.
    sms = MessageChannel.SMS
    text, masked = (message_text("verify_phone", sms, locale, code=shown).body
                    for shown in (code, MASK))
    queue_message(sms, phone, "", masked, event, user, secret_body=text, locale=locale)
    log.info("phone code %s (%s) sent to account %s", row.id, purpose, user.id)
    return row


def live_code(user: User, purpose: str = VERIFY) -> PhoneCode | None:
    """The account's code for ``purpose`` that may still be tried (the latest, unused,
    unexpired)."""
    return db.session.scalar(
        select(PhoneCode)
        .where(
            PhoneCode.user_id == user.id,
            PhoneCode.purpose == purpose,
            PhoneCode.consumed_at.is_(None),
            PhoneCode.expires_at > utcnow(),
        )
        .order_by(PhoneCode.id.desc())
        .limit(1)
    )


def use_code(user: User, row: PhoneCode, code: str) -> bool:
    """Count a guess at ``row`` and use it up if ``code`` is right; False when wrong (the
    guess stays counted once the caller commits).

    Raises PhoneCodeLimit when the day's wrong guesses for the account or the number are
    spent, DomainError when the code was tried too often or used meanwhile.
    """
    _check_guess_budget(user.id, row.phone)
    now = utcnow()
    # The guess is counted before the code is compared: of parallel guesses, no more
    # than MAX_ATTEMPTS get this far.
    counted = db.session.execute(
        update(PhoneCode)
        .where(
            PhoneCode.id == row.id,
            PhoneCode.attempts < MAX_ATTEMPTS,
            PhoneCode.consumed_at.is_(None),
            PhoneCode.expires_at > now,
        )
        .values(attempts=PhoneCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if counted != 1:
        raise DomainError(
            _("This code has been tried too often. Ask for a new one."), field="code"
        )
    given = "".join((code or "").split())
    if not hmac.compare_digest(row.code_hash, _digest(user.id, row.phone, given, row.purpose)):
        return False
    used = db.session.execute(
        update(PhoneCode)
        .where(PhoneCode.id == row.id, PhoneCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:  # a parallel request used it first
        raise DomainError(_("The code has expired. Ask for a new one."), field="code")
    return True


def check_phone_code(user: User, code: str) -> str | None:
    """The number proven when ``code`` is right (marked verified, the code used up); None
    when wrong (the guess is counted: the caller commits it).

    Raises DomainError when there is no live code (none sent, expired, tried too often,
    or the number changed since) and PhoneCodeLimit when the day's wrong guesses for the
    account or the number are spent.
    """
    client = user.client
    row = live_code(user)
    if client is None or row is None:
        raise DomainError(_("The code has expired. Ask for a new one."), field="code")
    if row.phone != client.phone:
        raise DomainError(
            _("The code was sent to a number that is no longer on your account. "
              "Ask for a new one."),
            field="code",
        )
    if not use_code(user, row, code):
        return None
    client.phone_verified_at = utcnow()
    db.session.flush()
    log.info("client %s verified their phone through account %s", client.id, user.id)
    return row.phone
