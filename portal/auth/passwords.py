"""Passwords of every account: hashing and rules, a change, and a reset by e-mail.

A reset link is an ``itsdangerous`` token signed with ``SECRET_KEY`` (salt
``password-reset``) that carries the user id and a fingerprint of the current password
hash, so it stops working once used or once the password changes; valid
``PASSWORD_RESET_MAX_AGE`` seconds. The e-mail goes out through the outbox, in the
recipient's language (``portal.notifications.texts``). Flushes, never commits.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Table, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth.sessions import end_sessions
from portal.auth.strength import password_problems
from portal.db import db
from portal.errors import DomainError
from portal.models import User, UserSession
from portal.notifications.models import MessageChannel
from portal.notifications.outbox import queue_message
from portal.notifications.services import absolute_url
from portal.notifications.texts import LOCALES, message_text

log = logging.getLogger(__name__)

RESET_SALT = "password-reset"
# Password reset requests naming an e-mail address shared by several accounts: at most
# this many links go out.
RESET_MAX_ACCOUNTS = 5


class TokenInvalid(DomainError):
    """A link that is tampered with, expired, already used or no longer current."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class PasswordRefused(DomainError):
    """A password too short or too easy to guess; ``messages`` says every reason."""

    def __init__(self, messages: list[str], field: str = "password") -> None:
        super().__init__(" ".join(messages), field=field)
        self.messages = messages


def personal_inputs(user: User) -> list[str | None]:
    """What a password must not be made of: the account's username, names and addresses."""
    client = user.client
    return [
        user.username, user.display_name, user.email, user.phone,
        *((client.name, client.contact_person, client.email, client.phone) if client else ()),
    ]


def check_password_rules(
    password: str, user_inputs: Iterable[str | None] = (), field: str = "password"
) -> None:
    """Refuse a password that is too short or too easy to guess (``portal.auth.strength``);
    ``user_inputs`` are the account's own words (``personal_inputs``)."""
    problems = password_problems(password, user_inputs)
    if problems:
        raise PasswordRefused(problems, field=field)


def set_new_password(user: User, new: str, keep: UserSession | None = None) -> None:
    """Check and store ``new`` as ``user``'s password; every sign-in but ``keep`` ends."""
    check_password_rules(new, personal_inputs(user))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user, keep=keep)
    db.session.flush()


def find_user(username: str) -> User | None:
    stmt = select(User).where(func.lower(User.username) == username.strip().lower())
    return db.session.scalar(stmt)


def signed_serializer(salt: str) -> URLSafeTimedSerializer:
    """The signer of the links sent by e-mail (reset here, verification in the clients room)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def message_locale(user: User, fallback: str | None) -> str:
    """The language to write to ``user`` in: theirs, their client record's, else ``fallback``."""
    for value in (user.locale, user.client.locale if user.client else None, fallback):
        if value in LOCALES:
            return value
    return "zh_CN"


# --- a change -------------------------------------------------------------------------


def change_password(
    user: User, current: str, new: str, keep: UserSession | None = None
) -> None:
    """Set a new password once the current one is given; every sign-in but ``keep``
    (the browser that changed it) ends, so whoever knew the old password is out."""
    if not check_password_hash(user.password_hash, current or ""):
        raise DomainError(_("The current password is wrong."), field="current_password")
    set_new_password(user, new, keep=keep)
    log.info("user %s changed their password", user.id)


# --- a reset by e-mail ----------------------------------------------------------------


def password_fingerprint(user: User) -> str:
    """A short keyed digest of the current password hash (never the hash itself)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def reset_token(user: User) -> str:
    return signed_serializer(RESET_SALT).dumps({"u": user.id, "p": password_fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    """The user a reset link is for; ``TokenInvalid`` if it is not good any more."""
    max_age = int(current_app.config["PASSWORD_RESET_MAX_AGE"])
    try:
        data = signed_serializer(RESET_SALT).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenInvalid(
            _("This link has expired. Ask for a new one.")
        ) from error
    except BadSignature as error:
        raise TokenInvalid(_("This link is not valid. Ask for a new one.")) from error
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if (
        user is None
        or not user.active
        or not hmac.compare_digest(str(data.get("p", "")), password_fingerprint(user))
    ):
        raise TokenInvalid(
            _("This link has been used already or is no longer valid. Ask for a new one.")
        )
    return user


def reset_password(token: str, new: str) -> User:
    """Set a new password through a reset link; the link stops working at once."""
    user = user_for_reset_token(token)
    set_new_password(user, new)  # the mailbox proves the account is theirs: every sign-in ends
    log.info("user %s reset their password by e-mail", user.id)
    return user


def _clients() -> Table:
    # A client's account may use its client record's address. The table by name, as
    # users.client_id's foreign key names it: the core imports no room.
    return db.metadata.tables["clients"]


def accounts_for_reset(login: str) -> list[tuple[User, str]]:
    """Active accounts named by ``login`` (a username or an e-mail) and where to write."""
    login = (login or "").strip()
    if not login:
        return []
    found: list[User] = []
    user = find_user(login)
    if user is not None:
        found.append(user)
    if "@" in login:
        address = login.lower()
        clients = _clients()
        found += db.session.scalars(
            select(User)
            .outerjoin(clients, clients.c.id == User.client_id)
            .where(
                or_(
                    func.lower(User.email) == address,
                    (User.email.is_(None)) & (func.lower(clients.c.email) == address),
                )
            )
            .order_by(User.id)
            .limit(RESET_MAX_ACCOUNTS)
        )
    result: list[tuple[User, str]] = []
    for account in dict.fromkeys(found):
        address = account.email or (account.client.email if account.client else None)
        if account.active and address:
            result.append((account, address))
    return result[:RESET_MAX_ACCOUNTS]


def request_password_reset(login: str, fallback_locale: str = "zh_CN") -> int:
    """Write a reset e-mail to each account ``login`` names; how many (never shown)."""
    accounts = accounts_for_reset(login)
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60
    for user, address in accounts:
        locale = message_locale(user, fallback_locale)
        token = reset_token(user)
        url = absolute_url("auth.reset_password", f"/reset/{token}", token=token)
        text = message_text(
            "password_reset", MessageChannel.EMAIL, locale,
            name=user.display_name, username=user.username, minutes=minutes, url=url,
        )
        queue_message(MessageChannel.EMAIL, address, text.subject, text.body, "password_reset",
                      user, locale=locale)
    if accounts:
        log.info("password reset link written for users %s", [u.id for u, _a in accounts])
    return len(accounts)
