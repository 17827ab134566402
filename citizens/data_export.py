"""The client's copy of their data (PIPL): what the portal holds about them, as JSON.

Their record in full, their accounts, cases (read through the CLIENT face of
``cases.public``, as their case page shows them), contacts and inbox; never another
person's data, internal notes or internal timeline events. Staff are named by role only,
except in ``reveals``: the law (PIPL arts. 44-45) gives the person the right to know who
handled their data, so each time a staff member had a full value shown, the export says
who (name, role, department), which value, when and why.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.models import Case
from cases.public import Audience, face
from cases.satisfaction.models import Rating
from cases.satisfaction.queries import client_ratings_for_export
from cases.timeline import describe, load_names
from citizens.models import Client, ContactLog, DeletionRequest, RevealLog
from portal.db import db, utcnow
from portal.models import User
from portal.notifications.models import InboxMessage

EXPORT_FORMAT = "gov-crm-portal/my-data/1"


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
    reveals = db.session.scalars(
        select(RevealLog)
        .where(RevealLog.client_id == client.id)
        .options(selectinload(RevealLog.user).selectinload(User.department))
        .order_by(RevealLog.created_at, RevealLog.id)
    )
    numbers = {case.id: case.number for case in cases}
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "client": _client_data(client),
        "accounts": [_account_data(user) for user in accounts],
        "cases": [_case_data(case) for case in cases],
        "ratings": [_rating_data(rating) for rating in client_ratings_for_export(client.id)],
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
        "reveals": [_reveal_data(reveal) for reveal in reveals],
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


def _case_data(case: Case) -> dict[str, Any]:
    seen = face(case, Audience.CLIENT)  # what the client's own case page shows
    details = {item.id: seen.details(item) for item in seen.events}
    names = load_names(d for d in details.values() if d)
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
            for reply in seen.replies + seen.master_replies
        ],
        "timeline": [
            {
                "date": _when(item.created_at),
                "action": item.action,
                "from_status": _enum(item.from_status),
                "to_status": _enum(item.to_status),
                "note": item.note if seen.shows_note(item) else None,
                # what the step changed, worded as the client's case page words it
                "details": describe(details[item.id], names) if details[item.id] else None,
            }
            for item in seen.events
        ],
        "attachments": [
            {"filename": attachment.filename, "size": attachment.size,
             "added_at": _when(attachment.created_at)}
            for attachment in seen.attachments
        ],
    }


def _rating_data(rating: Rating) -> dict[str, Any]:
    """One rating of an answer: what was said, how and when (staff by role only)."""
    return {
        "case": rating.case.number,
        "department": _named(rating.department),
        "status": _enum(rating.status),
        "level": rating.level,
        "solved": _enum(rating.solved),
        "dimensions": dict(rating.dimensions or {}),
        "comment": rating.comment,
        "source": _enum(rating.source),
        "recorded_by_role": _enum(rating.recorded_by.role) if rating.recorded_by else None,
        "set_aside": rating.set_aside,
        "asked_at": _when(rating.requested_at),
        "rated_at": _when(rating.rated_at or rating.default_at),
    }


def _reveal_data(reveal: RevealLog) -> dict[str, Any]:
    staff = reveal.user
    return {
        "date": _when(reveal.created_at),
        "field": reveal.field,
        "reason": reveal.reason,
        "staff_name": staff.display_name if staff else None,
        "staff_role": _enum(staff.role) if staff else None,
        "staff_department": _named(staff.department) if staff else None,
    }


def export_json(client: Client) -> str:
    return json.dumps(export_client_data(client), ensure_ascii=False, indent=2)
