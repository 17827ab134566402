"""Verifying a client's phone with a 6-digit code sent by SMS.

The code is never stored: the session keeps only an HMAC of it (keyed with the app's
secret, bound to the user and the number), its expiry and the attempts made, so the
signed-but-readable session cookie reveals nothing a guesser could use.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from citizens.models import Client
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User
from portal.notifications.models import MessageChannel, OutboxMessage

log = logging.getLogger(__name__)

CODE_TTL_SECONDS = 600
MAX_ATTEMPTS = 5


def _digest(user: User, phone: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{user.id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_phone_code(user: User, locale: str) -> dict[str, Any]:
    """Write an SMS with a fresh code to the client's phone; returns what the session keeps."""
    client: Client | None = user.client
    if client is None or not client.phone:
        raise DomainError(_("Give a mobile phone number first."), field="phone")
    code = f"{secrets.randbelow(1_000_000):06d}"
    with force_locale(locale):
        text = _(
            "Your verification code is %(code)s. It is valid for 10 minutes. "
            "[Citizen Service Portal]",
            code=code,
        )
    db.session.add(
        OutboxMessage(
            channel=MessageChannel.SMS,
            recipient_id=user.id,
            address=client.phone,
            locale=locale,
            body=text,
            event="verify_phone",
        )
    )
    db.session.flush()
    return {
        "digest": _digest(user, client.phone, code),
        "phone": client.phone,
        "expires": time.time() + CODE_TTL_SECONDS,
        "attempts": 0,
    }


def check_phone_code(user: User, pending: dict[str, Any] | None, code: str) -> bool:
    """True and the phone marked verified when ``code`` matches; counts a wrong attempt.

    Raises a DomainError when there is no live code (none sent, expired, too many tries,
    or the number changed since).
    """
    client = user.client
    if (
        not pending
        or client is None
        or pending.get("phone") != client.phone
        or time.time() > float(pending.get("expires", 0))
        or int(pending.get("attempts", 0)) >= MAX_ATTEMPTS
    ):
        raise DomainError(_("The code has expired. Ask for a new one."), field="code")
    pending["attempts"] = int(pending.get("attempts", 0)) + 1
    given = "".join((code or "").split())
    if not hmac.compare_digest(pending["digest"], _digest(user, client.phone, given)):
        return False
    client.phone_verified_at = utcnow()
    db.session.flush()
    log.info("client %s verified their phone through account %s", client.id, user.id)
    return True
