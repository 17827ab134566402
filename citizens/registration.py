"""Becoming a client online: registration, e-mail verification, claiming a staff record.

``register_client`` makes a client record and the web account that speaks for it (the
page is ``/register``). A verification link for the client's e-mail is an
``itsdangerous`` token signed like a reset link (salt ``verify-email``): the user id and
the address, so a link stops working once the account's address changes; valid
``EMAIL_VERIFY_MAX_AGE`` seconds. A verified address (or a phone just proven by a code)
lets the account claim the record the service centre made for the same person
(``claim_matching_record``). Flushes, never commits.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import func, or_, select

from citizens.models import (
    Client,
    ClientKind,
    ClientMerge,
    ContactChannel,
    ContactLog,
    DeletionRequest,
    RevealLog,
)
from citizens.phone_verification import MOBILE_RE
from portal.auth.passwords import (
    TokenInvalid,
    check_password_rules,
    hash_password,
    message_locale,
    signed_serializer,
)
from portal.auth.services import username_taken
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User
from portal.notifications.models import MessageChannel, OutboxMessage
from portal.notifications.outbox import queue_message
from portal.notifications.services import absolute_url
from portal.notifications.texts import message_text

log = logging.getLogger(__name__)

VERIFY_SALT = "verify-email"
CLAIM_SUMMARY = "网上账户 {username} 以已验证的电子邮箱认领了此记录（自动）"


def same_email(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().lower() == b.strip().lower()


def register_client(
    *,
    kind: ClientKind,
    username: str,
    password: str,
    name: str,
    email: str | None,
    phone: str | None,
    credit_code: str | None = None,
    contact_person: str | None = None,
    locale: str | None = None,
) -> User:
    """Create a client record and the web account that speaks for it."""
    if username_taken(username):
        raise DomainError(_("This username is taken. Choose another."), field="username")
    check_password_rules(password, [username, name, contact_person, email, phone])
    client = Client(
        kind=kind,
        name=name.strip(),
        email=email or None,
        phone=phone or None,
        credit_code=credit_code or None,
        contact_person=contact_person or None,
        # Told by a channel given: e-mail when there is an address, else SMS to a mobile
        # (never e-mail without an address; the client may choose both on /account).
        notify_by_email=bool(email),
        notify_by_sms=not email and bool(phone and MOBILE_RE.match(phone)),
    )
    db.session.add(client)
    user = User(
        username=username.strip(),
        password_hash=hash_password(password),
        role=Role.ENTERPRISE if kind == ClientKind.ENTERPRISE else Role.CITIZEN,
        display_name=(contact_person or name).strip(),
        email=email or None,
        phone=phone or None,
        locale=locale,
        client=client,
    )
    db.session.add(user)
    db.session.flush()
    log.info("client %s registered as user %s", client.id, user.id)
    return user


# --- e-mail verification and claiming a record made by staff ----------------------------


def send_email_verification(user: User, fallback_locale: str = "zh_CN") -> OutboxMessage:
    """Write a verification link for the client's e-mail address to that address."""
    client = user.client
    if client is None or not client.email:
        raise DomainError(_("Give an e-mail address first."), field="email")
    locale = message_locale(user, fallback_locale)
    token = signed_serializer(VERIFY_SALT).dumps({"u": user.id, "e": client.email.lower()})
    url = absolute_url("citizens.verify_email", f"/account/verify-email/{token}", token=token)
    text = message_text(
        "verify_email", MessageChannel.EMAIL, locale,
        name=user.display_name, email=client.email, url=url,
    )
    return queue_message(MessageChannel.EMAIL, client.email, text.subject, text.body,
                         "verify_email", user, locale=locale)


def verify_email(token: str) -> tuple[User, Client | None]:
    """Mark the address a verification link was sent to as verified.

    Returns the user and the record they claimed on the way (see
    ``claim_matching_record``), if any.
    """
    max_age = int(current_app.config["EMAIL_VERIFY_MAX_AGE"])
    try:
        data = signed_serializer(VERIFY_SALT).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenInvalid(_("This link has expired. Ask for a new one.")) from error
    except BadSignature as error:
        raise TokenInvalid(_("This link is not valid. Ask for a new one.")) from error
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    client = user.client if user is not None else None
    if (
        user is None
        or not user.active
        or client is None
        or not same_email(client.email, data.get("e"))
    ):
        raise TokenInvalid(
            _("This link is for an address that is no longer on your account. Ask for a new one.")
        )
    if client.email_verified_at is None:
        client.email_verified_at = utcnow()
        db.session.flush()
        log.info("client %s verified their e-mail through account %s", client.id, user.id)
    return user, claim_matching_record(user)


def claim_matching_record(user: User, proven_phone: str | None = None) -> Client | None:
    """Attach ``user`` to the one record staff made for the same person, if there is one.

    Conservative on purpose: only when the account's client record has a *verified*
    e-mail, or ``proven_phone`` is its number and a code sent to that number was used in
    this very request (``check_phone_code``), and exactly one other record of the same
    kind has that address (letter case aside) or number, has no web account, and is
    neither merged nor anonymised. The account then speaks for that record; whatever the
    new record holds (normally nothing) moves with it, and the new record goes (or, if
    something still refers to it, is marked merged).
    A contact-log line on the claimed record says what happened.
    """
    from cases.models import Case

    own = user.client
    if (
        not user.is_client
        or own is None
        or own.merged_into_id is not None
        or own.anonymised_at is not None
    ):
        return None
    # Only a verified address or number can prove the staff's record is this person's.
    proofs = []
    if own.email and own.email_verified_at is not None:
        proofs.append(func.lower(Client.email) == own.email.strip().lower())
    # A number proves only once, right after its code was used: a verified flag alone
    # might come from another way, and must not claim later records of that number.
    if proven_phone and proven_phone == own.phone and own.phone_verified_at is not None:
        proofs.append(Client.phone == proven_phone)
    if not proofs:
        return None
    with_account = select(User.client_id).where(User.client_id.is_not(None))
    candidates = db.session.scalars(
        select(Client)
        .where(
            or_(*proofs),
            Client.id != own.id,
            Client.kind == own.kind,
            Client.merged_into_id.is_(None),
            Client.anonymised_at.is_(None),
            Client.id.not_in(with_account),
        )
        .limit(2)
    ).all()
    if len(candidates) != 1:
        return None
    record = candidates[0]

    # What the new record holds moves over (a case filed before the e-mail was verified).
    moved_cases = 0
    for case in db.session.scalars(select(Case).where(Case.client_id == own.id)):
        case.client_id = record.id
        moved_cases += 1
    for contact in db.session.scalars(select(ContactLog).where(ContactLog.client_id == own.id)):
        contact.client_id = record.id
    record.case_count += own.case_count
    own.case_count = 0
    # Blanks on the staff's record are filled from the account's; nothing is overwritten.
    if own.email_verified_at is not None and same_email(record.email, own.email):
        record.email_verified_at = own.email_verified_at
    if own.phone_verified_at is not None and record.phone == own.phone:
        record.phone_verified_at = own.phone_verified_at
    if not record.phone and own.phone:
        record.phone, record.phone_verified_at = own.phone, own.phone_verified_at
    if not record.contact_person and own.contact_person:
        record.contact_person = own.contact_person
    record.locale = own.locale
    record.notify_by_email, record.notify_by_sms = own.notify_by_email, own.notify_by_sms
    for account in db.session.scalars(select(User).where(User.client_id == own.id)):
        account.client = record
    db.session.add(
        ContactLog(
            client_id=record.id,
            channel=ContactChannel.WEB,
            summary=CLAIM_SUMMARY.format(username=user.username),
            automatic=True,
        )
    )
    db.session.flush()
    _retire(own, record)
    db.session.flush()
    log.info(
        "user %s claimed client %s (own record %s, %d cases moved)",
        user.id, record.id, own.id, moved_cases,
    )
    return record


def _retire(own: Client, record: Client) -> None:
    """Delete the emptied record, or mark it merged if something still refers to it."""
    referenced = any(
        db.session.scalar(select(func.count()).select_from(model).where(column == own.id))
        for model, column in (
            (RevealLog, RevealLog.client_id),
            (DeletionRequest, DeletionRequest.client_id),
            (ClientMerge, ClientMerge.survivor_id),
            (ClientMerge, ClientMerge.merged_id),
            (Client, Client.merged_into_id),
        )
    )
    if referenced:
        own.merged_into_id = record.id
    else:
        db.session.delete(own)
