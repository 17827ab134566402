"""Clients' self-service: profile, passwords, reset and verification links, claims, deletion.

Every function flushes, never commits: the view commits once. Links sent by e-mail are
``itsdangerous`` tokens signed with ``SECRET_KEY``:

- password reset (salt ``password-reset``): the user id and a fingerprint of the
  current password hash, so a link stops working once used or once the password
  changes; valid ``PASSWORD_RESET_MAX_AGE`` seconds.
- e-mail verification (salt ``verify-email``): the user id and the address, so a
  link stops working once the account's address changes; valid
  ``EMAIL_VERIFY_MAX_AGE`` seconds.

E-mails go out through the notifications outbox (written in the same transaction,
delivered after the commit). Their texts live with the case messages in the one registry
(``portal.notifications.texts``): a message is written in the *recipient's* language.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash

from citizens.models import (
    Client,
    ClientKind,
    ClientMerge,
    ContactChannel,
    ContactLog,
    DeletionRequest,
    DeletionStatus,
    RevealLog,
)
from portal.auth.services import check_password_rules, find_user, hash_password
from portal.auth.sessions import end_sessions
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User, UserSession
from portal.notifications.models import InboxMessage, MessageChannel, OutboxMessage
from portal.notifications.outbox import queue_message
from portal.notifications.services import absolute_url
from portal.notifications.texts import message_text

log = logging.getLogger(__name__)

RESET_SALT = "password-reset"
VERIFY_SALT = "verify-email"
LOCALES = ("zh_CN", "en")
NOTIFY_CHOICES = ("email", "sms", "both", "none")
# Password reset requests naming an e-mail address shared by several accounts: at most
# this many links go out.
RESET_MAX_ACCOUNTS = 5
PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)

CLAIM_SUMMARY = "网上账户 {username} 以已验证的电子邮箱认领了此记录（自动）"
REFUSAL_SUMMARY = "注销申请未获批准：{reason}"


class TokenInvalid(DomainError):
    """A link that is tampered with, expired, already used or no longer current."""


# --- checking and normalising ----------------------------------------------------------


def normalise_cn_phone(value: str | None) -> str | None:
    """A mainland phone number in the stored form, or None if ``value`` is not one.

    Mobiles are kept as their 11 digits (``13800138000``), landlines with their area
    code (``010-12345678``); ``+86``, spaces and dashes are accepted on the way in.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(number, "CN"):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in PHONE_TYPES:
        return None
    national = phonenumbers.national_significant_number(number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return national
    area = phonenumbers.length_of_geographical_area_code(number)
    return f"0{national[:area]}-{national[area:]}" if area else national


def normalise_email(value: str | None) -> str | None:
    """The address in its normal form (domain in lower case), or None if it is not one."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def same_email(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().lower() == b.strip().lower()


# --- the profile ------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str
    phone: str | None
    email: str | None
    contact_person: str | None = None
    notify: str = "email"  # one of NOTIFY_CHOICES
    locale: str = "zh_CN"


def notify_choice(client: Client) -> str:
    """The client's notification preference as one of ``NOTIFY_CHOICES``."""
    if client.notify_by_email and client.notify_by_sms:
        return "both"
    if client.notify_by_email:
        return "email"
    return "sms" if client.notify_by_sms else "none"


def update_profile(user: User, client: Client, profile: Profile) -> list[str]:
    """Save the client's own profile; returns the names of the fields that changed.

    Checks everything first and changes nothing on a refusal (``DomainError`` naming
    the field). A changed phone or e-mail is no longer verified.
    """
    name = profile.name.strip()
    if not name:
        raise DomainError(_("Give your name."), field="name")
    phone = normalise_cn_phone(profile.phone)
    if (profile.phone or "").strip() and phone is None:
        raise DomainError(
            _("Enter a mobile number of 11 digits or a landline such as 010-12345678."),
            field="phone",
        )
    email = normalise_email(profile.email)
    if (profile.email or "").strip() and email is None:
        raise DomainError(_("Invalid email address."), field="email")
    contact_person = (profile.contact_person or "").strip() or None
    if client.kind == ClientKind.ENTERPRISE and not contact_person:
        raise DomainError(_("An enterprise needs a contact person."), field="contact_person")
    if not (phone or email):
        raise DomainError(_("Give a phone number or an e-mail."), field="phone")
    if profile.notify not in NOTIFY_CHOICES:
        raise DomainError(_("Choose how we tell you about your requests."), field="notify")
    by_email = profile.notify in ("email", "both")
    by_sms = profile.notify in ("sms", "both")
    if by_email and not email:
        raise DomainError(_("Give an e-mail address to be told by e-mail."), field="notify")
    if by_sms and not phone:
        raise DomainError(_("Give a phone number to be told by SMS."), field="notify")
    if profile.locale not in LOCALES:
        raise DomainError(_("Choose a language from the list."), field="locale")

    changed: list[str] = []

    def put(obj: object, attr: str, value: object, label: str | None = None) -> None:
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            if label and label not in changed:
                changed.append(label)

    if phone != client.phone:
        client.phone_verified_at = None
    if not same_email(email, client.email):
        client.email_verified_at = None
    put(client, "name", name, "name")
    put(client, "phone", phone, "phone")
    put(client, "email", email, "email")
    if client.kind == ClientKind.ENTERPRISE:
        put(client, "contact_person", contact_person, "contact_person")
    put(client, "notify_by_email", by_email, "notify")
    put(client, "notify_by_sms", by_sms, "notify")
    put(client, "locale", profile.locale, "locale")
    # The account that speaks for the client follows: its own address is used first.
    put(user, "phone", phone)
    put(user, "email", email)
    put(user, "locale", profile.locale)
    put(user, "display_name", (contact_person or name)[:100])
    db.session.flush()
    if changed:
        log.info("client %s updated %s through account %s", client.id, ",".join(changed), user.id)
    return changed


# --- passwords ------------------------------------------------------------------------


def change_password(
    user: User, current: str, new: str, keep: UserSession | None = None
) -> None:
    """Set a new password once the current one is given; every sign-in but ``keep``
    (the browser that changed it) ends, so whoever knew the old password is out."""
    if not check_password_hash(user.password_hash, current or ""):
        raise DomainError(_("The current password is wrong."), field="current_password")
    check_password_rules(new)
    user.password_hash = hash_password(new)
    end_sessions(user, keep=keep)
    db.session.flush()
    log.info("user %s changed their password", user.id)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def password_fingerprint(user: User) -> str:
    """A short keyed digest of the current password hash (never the hash itself)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": password_fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    """The user a reset link is for; ``TokenInvalid`` if it is not good any more."""
    max_age = int(current_app.config["PASSWORD_RESET_MAX_AGE"])
    try:
        data = _serializer(RESET_SALT).loads(token, max_age=max_age)
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
    check_password_rules(new)
    user.password_hash = hash_password(new)
    end_sessions(user)  # the mailbox proves the account is theirs: every sign-in ends
    db.session.flush()
    log.info("user %s reset their password by e-mail", user.id)
    return user


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
        found += db.session.scalars(
            select(User)
            .outerjoin(Client, Client.id == User.client_id)
            .where(
                or_(
                    func.lower(User.email) == address,
                    (User.email.is_(None)) & (func.lower(Client.email) == address),
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
        locale = _locale_of(user, fallback_locale)
        token = reset_token(user)
        url = absolute_url("citizens.reset_password", f"/reset/{token}", token=token)
        text = message_text(
            "password_reset", MessageChannel.EMAIL, locale,
            name=user.display_name, username=user.username, minutes=minutes, url=url,
        )
        queue_message(MessageChannel.EMAIL, address, text.subject, text.body, "password_reset",
                      user, locale=locale)
    if accounts:
        log.info("password reset link written for users %s", [u.id for u, _a in accounts])
    return len(accounts)


# --- e-mail verification and claiming a record made by staff ----------------------------


def send_email_verification(user: User, fallback_locale: str = "zh_CN") -> OutboxMessage:
    """Write a verification link for the client's e-mail address to that address."""
    client = user.client
    if client is None or not client.email:
        raise DomainError(_("Give an e-mail address first."), field="email")
    locale = _locale_of(user, fallback_locale)
    token = _serializer(VERIFY_SALT).dumps({"u": user.id, "e": client.email.lower()})
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
        data = _serializer(VERIFY_SALT).loads(token, max_age=max_age)
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


# --- deletion requests -------------------------------------------------------------------


def pending_deletion(client: Client) -> DeletionRequest | None:
    return db.session.scalar(
        select(DeletionRequest).where(
            DeletionRequest.client_id == client.id,
            DeletionRequest.status == DeletionStatus.PENDING,
        )
    )


def request_deletion(client: Client, user: User, reason: str | None) -> DeletionRequest:
    """The client asks to be forgotten; one pending request at a time."""
    if client.anonymised_at is not None:
        raise DomainError(_("This account has been deleted already."))
    if pending_deletion(client) is not None:
        raise DomainError(_("You have asked for deletion already; an administrator will decide."))
    request = DeletionRequest(
        client_id=client.id,
        requested_by_id=user.id,
        reason=(reason or "").strip() or None,
        status=DeletionStatus.PENDING,
    )
    db.session.add(request)
    db.session.flush()
    log.info("client %s asked for deletion through account %s", client.id, user.id)
    return request


def pending_deletion_requests() -> list[DeletionRequest]:
    return list(
        db.session.scalars(
            select(DeletionRequest)
            .where(DeletionRequest.status == DeletionStatus.PENDING)
            .order_by(DeletionRequest.created_at, DeletionRequest.id)
        )
    )


def handled_deletion_requests(limit: int = 20) -> list[DeletionRequest]:
    return list(
        db.session.scalars(
            select(DeletionRequest)
            .where(DeletionRequest.status != DeletionStatus.PENDING)
            .order_by(DeletionRequest.handled_at.desc(), DeletionRequest.id.desc())
            .limit(limit)
        )
    )


def _decidable(request: DeletionRequest, admin: User) -> None:
    if admin.role != Role.ADMIN:
        raise DomainError(_("Only an administrator decides on deletion requests."))
    if request.status != DeletionStatus.PENDING:
        raise DomainError(_("This request has been decided already."))


def carry_out_deletion(request: DeletionRequest, admin: User) -> Client:
    """Anonymise the client of a pending request and record who did it and when."""
    from citizens.privacy import anonymise_client

    _decidable(request, admin)
    client = anonymise_client(request.client, admin)
    request.status = DeletionStatus.DONE
    request.handled_by_id = admin.id
    request.handled_at = utcnow()
    db.session.flush()
    return client


def refuse_deletion(request: DeletionRequest, admin: User, reason: str) -> DeletionRequest:
    """Refuse a pending request with a reason the client reads in their inbox."""
    _decidable(request, admin)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the refusal."), field="note")
    request.status = DeletionStatus.REFUSED
    request.handled_by_id = admin.id
    request.handled_at = utcnow()
    client = request.client
    db.session.add(
        ContactLog(
            client_id=client.id,
            channel=ContactChannel.WEB,
            staff_id=admin.id,
            summary=REFUSAL_SUMMARY.format(reason=reason),
            automatic=False,
        )
    )
    asked = request.created_at.date().isoformat() if request.created_at else ""
    for account in db.session.scalars(
        select(User).where(User.client_id == client.id, User.active.is_(True))
    ):
        locale = _locale_of(account, client.locale)
        text = message_text(
            "deletion_refused", MessageChannel.INBOX, locale,
            name=account.display_name, date=asked, reason=reason,
        )
        db.session.add(InboxMessage(user_id=account.id, subject=text.subject, body=text.body))
    db.session.flush()
    log.info("admin %s refused deletion request %s", admin.id, request.id)
    return request


# --- writing messages ---------------------------------------------------------------------


def _locale_of(user: User, fallback: str | None) -> str:
    for value in (user.locale, user.client.locale if user.client else None, fallback):
        if value in LOCALES:
            return value
    return "zh_CN"

