"""The client's privacy rights (PIPL): a copy of their data, and being forgotten.

``export_client_data`` gathers what the portal holds about one client, for the client
themselves: their record in full, their accounts, cases, contacts and inbox; never
another person's data, staff names, internal notes or internal timeline events.

``anonymise_client`` carries out a deletion request without harming the statistics:
case rows keep their status, category, district, department, dates, deadlines and
timeline, while everything that says who the person is goes.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import selectinload

from cases.attachments import storage_path
from cases.models import Attachment, Case
from citizens.models import (
    Client,
    ClientMerge,
    ContactLog,
    DeletionRequest,
    RevealLog,
)
from portal.aftercommit import after_commit
from portal.auth.sessions import end_sessions
from portal.db import db, utcnow
from portal.models import User
from portal.notifications.models import InboxMessage, OutboxMessage

log = logging.getLogger(__name__)

EXPORT_FORMAT = "gov-crm-portal/my-data/1"
ANONYMOUS_NAME = "已注销用户 #{id}"
ANONYMOUS_ACCOUNT = "已注销用户"
REMOVED_TEXT = "（内容已因用户注销而删除）"
MASK = "***"
UNUSABLE_PASSWORD = "!"  # noqa: S105 (matches no password: not a werkzeug hash)


# --- the client's copy of their data ------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _named(row: Any) -> dict[str, str] | None:
    if row is None:
        return None
    return {"code": row.code, "name_zh": row.name_zh, "name_en": row.name_en or row.name_zh}


def _enum(value: Any) -> str | None:
    return value.value if value is not None else None


def export_client_data(client: Client) -> dict[str, Any]:
    """Everything the portal holds about ``client`` that is theirs to read, as JSON data."""
    accounts = list(
        db.session.scalars(select(User).where(User.client_id == client.id).order_by(User.id))
    )
    account_ids = [user.id for user in accounts]
    cases = list(
        db.session.scalars(
            select(Case)
            .where(Case.client_id == client.id)
            .options(
                selectinload(Case.events),
                selectinload(Case.replies),
                selectinload(Case.attachments),
            )
            .order_by(Case.created_at, Case.id)
        )
    )
    contacts = db.session.scalars(
        select(ContactLog)
        .where(ContactLog.client_id == client.id)
        .options(selectinload(ContactLog.staff), selectinload(ContactLog.case))
        .order_by(ContactLog.created_at, ContactLog.id)
    )
    inbox = (
        db.session.scalars(
            select(InboxMessage)
            .where(InboxMessage.user_id.in_(account_ids))
            .order_by(InboxMessage.created_at, InboxMessage.id)
        )
        if account_ids
        else []
    )
    deletions = db.session.scalars(
        select(DeletionRequest)
        .where(DeletionRequest.client_id == client.id)
        .order_by(DeletionRequest.created_at, DeletionRequest.id)
    )
    numbers = {case.id: case.number for case in cases}
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "client": _client_data(client),
        "accounts": [_account_data(user) for user in accounts],
        "cases": [_case_data(case, set(account_ids)) for case in cases],
        "contacts": [
            {
                "date": _when(contact.created_at),
                "channel": _enum(contact.channel),
                "case": numbers.get(contact.case_id) if contact.case_id else None,
                "summary": contact.summary,
                "automatic": contact.automatic,
                # Who on the staff: their role only, never their name.
                "staff_role": _enum(contact.staff.role) if contact.staff else None,
            }
            for contact in contacts
        ],
        "inbox": [
            {
                "date": _when(message.created_at),
                "subject": message.subject,
                "body": message.body,
                "case": numbers.get(message.case_id) if message.case_id else None,
                "read_at": _when(message.read_at),
            }
            for message in inbox
        ],
        "deletion_requests": [
            {
                "status": _enum(request.status),
                "requested_at": _when(request.created_at),
                "reason": request.reason,
                "handled_at": _when(request.handled_at),
            }
            for request in deletions
        ],
    }


def _client_data(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "kind": _enum(client.kind),
        "name": client.name,
        "phone": client.phone,
        "email": client.email,
        "id_number": client.id_number,
        "credit_code": client.credit_code,
        "contact_person": client.contact_person,
        "address": client.address,
        "district": _named(client.district),
        "size_tier": _enum(client.size_tier),
        "industry": client.industry,
        "notify_by_email": client.notify_by_email,
        "notify_by_sms": client.notify_by_sms,
        "locale": client.locale,
        "requests_made": client.case_count,
        "engagement": _enum(client.engagement),
        "vulnerable_groups": sorted(flag.flag.value for flag in client.flags),
        "tags": [tag.tag for tag in client.tags],
        "phone_verified_at": _when(client.phone_verified_at),
        "email_verified_at": _when(client.email_verified_at),
        "created_at": _when(client.created_at),
        "updated_at": _when(client.updated_at),
    }


def _account_data(user: User) -> dict[str, Any]:
    # No password hash, no sign-in failure counters: security data, not personal data.
    return {
        "username": user.username,
        "role": _enum(user.role),
        "display_name": user.display_name,
        "email": user.email,
        "phone": user.phone,
        "locale": user.locale,
        "active": user.active,
        "created_at": _when(user.created_at),
        "last_login_at": _when(user.last_login_at),
    }


def _case_data(case: Case, account_ids: set[int]) -> dict[str, Any]:
    return {
        "number": case.number,
        "type": _enum(case.type),
        "channel": _enum(case.channel),
        "category": _named(case.category),
        "district": _named(case.district),
        "status": _enum(case.status),
        "anonymous": case.anonymous,
        "title": case.title,
        "description": case.description,
        "filed_at": _when(case.created_at),
        "updated_at": _when(case.updated_at),
        "replied_at": _when(case.replied_at),
        "closed_at": _when(case.closed_at),
        "replies": [
            {"date": _when(reply.created_at), "text": reply.body}
            for reply in case.replies
            if reply.is_public
        ],
        "timeline": [
            {
                "date": _when(item.created_at),
                "action": item.action,
                "from_status": _enum(item.from_status),
                "to_status": _enum(item.to_status),
                "note": item.note,
            }
            for item in case.events
            if item.is_public
        ],
        "attachments": [
            {"filename": attachment.filename, "size": attachment.size,
             "added_at": _when(attachment.created_at)}
            for attachment in case.attachments
            if attachment.is_public or attachment.uploaded_by_id in account_ids
        ],
    }


def export_json(client: Client) -> str:
    return json.dumps(export_client_data(client), ensure_ascii=False, indent=2)


# --- being forgotten --------------------------------------------------------------------------


def anonymise_client(client: Client, admin: User) -> Client:
    """Remove who the person is, keep what the statistics count (see the module doc).

    The record keeps its kind, district, size tier, industry and request count; its
    name becomes ``已注销用户 #<id>`` and every identifying field is cleared. The web
    accounts are disabled and scrubbed. The cases keep their rows, states, categories,
    districts, departments, dates, deadlines and timelines; their titles and
    descriptions are replaced with a neutral text, their attachments deleted (files
    once the transaction commits), and the person's name, phone, e-mail and ID numbers
    are masked wherever staff quoted them (notes, replies, staff's messages about the
    cases). Inbox messages and undelivered or sent e-mail/SMS to the person are deleted;
    contact-log entries stay without summaries.
    Records merged into this one (the same person) are anonymised too. Flushes.
    """
    done: set[int] = set()
    _anonymise(client, admin, done)
    db.session.flush()
    return client


def _anonymise(client: Client, admin: User, done: set[int]) -> None:
    if client.id in done:
        return
    done.add(client.id)
    accounts = list(db.session.scalars(select(User).where(User.client_id == client.id)))
    account_ids = [user.id for user in accounts]
    secrets = _identifying_values(client, accounts)
    addresses = {
        value
        for value in (client.email, client.phone, *(u.email for u in accounts),
                      *(u.phone for u in accounts))
        if value
    }

    # The cases: numbers stay, words go.
    cases = list(
        db.session.scalars(
            select(Case)
            .where(Case.client_id == client.id)
            .options(
                selectinload(Case.attachments),
                selectinload(Case.events),
                selectinload(Case.replies),
            )
        )
    )
    for case in cases:
        case.title = REMOVED_TEXT
        case.description = REMOVED_TEXT
        for attachment in list(case.attachments):
            _remove_attachment(attachment)
        for item in case.events:
            item.note = _mask(item.note, secrets)
        for reply in case.replies:
            reply.body = _mask(reply.body, secrets) or ""
    for contact in db.session.scalars(select(ContactLog).where(ContactLog.client_id == client.id)):
        contact.summary = ""
    for reveal in db.session.scalars(select(RevealLog).where(RevealLog.client_id == client.id)):
        reveal.reason = _mask(reveal.reason, secrets) or ""
    for merge in db.session.scalars(
        select(ClientMerge).where(
            or_(ClientMerge.survivor_id == client.id, ClientMerge.merged_id == client.id)
        )
    ):
        merge.snapshot = "{}"
        merge.reason = _mask(merge.reason, secrets) or ""
    for request in db.session.scalars(
        select(DeletionRequest).where(DeletionRequest.client_id == client.id)
    ):
        request.reason = None

    # Messages to the person go; staff's messages about their cases lose the name.
    case_ids = [case.id for case in cases]
    if account_ids:
        db.session.execute(delete(InboxMessage).where(InboxMessage.user_id.in_(account_ids)))
    to_person = [OutboxMessage.recipient_id.in_(account_ids)] if account_ids else []
    if case_ids or addresses:
        to_person.append(
            and_(
                OutboxMessage.recipient_id.is_(None),
                or_(OutboxMessage.case_id.in_(case_ids), OutboxMessage.address.in_(addresses)),
            )
        )
    if to_person:
        db.session.execute(
            delete(OutboxMessage).where(or_(*to_person)).execution_options(
                synchronize_session=False
            )
        )
    if case_ids:
        for model in (OutboxMessage, InboxMessage):
            for message in db.session.scalars(select(model).where(model.case_id.in_(case_ids))):
                message.subject = _mask(message.subject, secrets) or ""
                message.body = _mask(message.body, secrets) or ""

    # The accounts.
    for user in accounts:
        user.username = f"deleted-{user.id}"
        user.display_name = ANONYMOUS_ACCOUNT
        user.email = None
        user.phone = None
        user.locale = None
        user.active = False
        user.password_hash = UNUSABLE_PASSWORD
        end_sessions(user)  # signed out everywhere, at once

    # The record itself.
    client.name = ANONYMOUS_NAME.format(id=client.id)
    client.phone = None
    client.email = None
    client.id_number = None
    client.credit_code = None
    client.contact_person = None
    client.address = None
    client.phone_verified_at = None
    client.email_verified_at = None
    client.notify_by_email = False
    client.notify_by_sms = False
    client.tags.clear()
    client.flags.clear()
    client.anonymised_at = utcnow()
    db.session.flush()
    log.info(
        "admin %s anonymised client %s (%d accounts, %d cases kept)",
        admin.id, client.id, len(accounts), len(cases),
    )

    # Duplicates merged into this record are the same person.
    for duplicate in db.session.scalars(select(Client).where(Client.merged_into_id == client.id)):
        _anonymise(duplicate, admin, done)


def _identifying_values(client: Client, accounts: list[User]) -> list[str]:
    """What identifies the person, longest first (so a longer value is masked whole)."""
    values = {
        client.name,
        client.phone,
        client.email,
        client.id_number,
        client.credit_code,
        client.contact_person,
        client.address,
        *(user.display_name for user in accounts),
        *(user.email for user in accounts),
        *(user.phone for user in accounts),
        *(user.username for user in accounts),
    }
    # One-character values would mask too much of the staff's text.
    kept = {value.strip() for value in values if value and len(value.strip()) >= 2}
    return sorted(kept, key=len, reverse=True)


def _mask(text: str | None, secrets: list[str]) -> str | None:
    if not text:
        return text
    for value in secrets:
        text = text.replace(value, MASK)
    return text


def _remove_attachment(attachment: Attachment) -> None:
    after_commit(partial(_unlink_file, storage_path(attachment.storage_key)))
    db.session.delete(attachment)


# --- files of deleted attachments go once the deletion commits ---------------------------------


def _unlink_file(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("could not remove the attachment file %s", path)

