"""Clients' self-service: the profile and deletion requests.

Every function flushes, never commits: the view commits once. Registration, e-mail
verification and claiming a record staff made are in ``citizens.registration``;
passwords (change, reset by e-mail) are the core's, for every account
(``portal.auth.passwords``).

E-mails go out through the notifications outbox (written in the same transaction,
delivered after the commit). Their texts live in the one registry
(``portal.notifications.texts``): a message is written in the *recipient's* language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select

from citizens.models import (
    Client,
    ClientKind,
    ContactChannel,
    ContactLog,
    DeletionRequest,
    DeletionStatus,
)
from citizens.registration import same_email
from portal.auth.passwords import message_locale
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User
from portal.notifications.models import InboxMessage, MessageChannel
from portal.notifications.texts import message_text

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")
NOTIFY_CHOICES = ("email", "sms", "both", "none")
PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)

REFUSAL_SUMMARY = "注销申请未获批准：{reason}"


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
    """The client's notification preference as one of ``NOTIFY_CHOICES``, as far as
    the channels they gave allow: e-mail without an address (the old default for clients
    who registered with a phone only) is SMS when they have a phone, else nothing."""
    by_email = client.notify_by_email and bool(client.email)
    by_sms = client.notify_by_sms and bool(client.phone)
    if client.notify_by_email and not client.email and client.phone:
        by_sms = True
    if by_email and by_sms:
        return "both"
    if by_email:
        return "email"
    return "sms" if by_sms else "none"


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
        locale = message_locale(account, client.locale)
        text = message_text(
            "deletion_refused", MessageChannel.INBOX, locale,
            name=account.display_name, date=asked, reason=reason,
        )
        db.session.add(InboxMessage(user_id=account.id, subject=text.subject, body=text.body))
    db.session.flush()
    log.info("admin %s refused deletion request %s", admin.id, request.id)
    return request
