"""Business rules for cases: filing, numbering, transitions and replies.

Services flush, never commit: the request (or CLI command) that called them
commits once, so every write is one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CaseReply,
    CaseStatus,
    CaseType,
    Category,
    Channel,
)
from cases.workflow import TRANSITIONS, Transition, transitions_from
from citizens.models import Client
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import District, User
from portal.permissions import can_view_case

log = logging.getLogger(__name__)


class TransitionRefused(DomainError):
    """A transition the current state or the user's role does not allow."""


@dataclass(frozen=True)
class CaseRequest:
    """What a client asks: the fields of the filing form, already validated."""

    type: CaseType
    category_id: int
    title: str
    description: str
    district_id: int
    channel: Channel = Channel.WEB


def local_now() -> datetime:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def next_case_number(year: int) -> str:
    """Hand out the next tracking number of ``year`` (``2026-000123``), atomically.

    The counter row is bumped with one UPDATE ... RETURNING, so two processes
    filing at once never get the same number.
    """
    bump = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.year == year)
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)
        .execution_options(synchronize_session=False)
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseNumberCounter(year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created this year's row first
        value = db.session.execute(bump).scalar_one()
    return f"{year}-{value:06d}"


def leaf_categories() -> list[Category]:
    """Active categories that have no active children: what a case is filed under."""
    parents = select(Category.parent_id).where(
        Category.parent_id.is_not(None), Category.is_active.is_(True)
    )
    stmt = (
        select(Category)
        .where(Category.is_active.is_(True), Category.id.not_in(parents))
        .options(selectinload(Category.parent))
        .order_by(Category.parent_id, Category.position, Category.id)
    )
    return list(db.session.scalars(stmt))


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.position, District.id)))


def file_case(client: Client, filed_by: User | None, request: CaseRequest) -> Case:
    """Record a new case for ``client`` and write its first timeline event."""
    category = db.session.get(Category, request.category_id)
    if category is None or not category.is_active:
        raise DomainError(_("Choose a category from the list."))
    if db.session.get(District, request.district_id) is None:
        raise DomainError(_("Choose a district from the list."))
    case = Case(
        number=next_case_number(local_now().year),
        type=request.type,
        channel=request.channel,
        status=CaseStatus.SUBMITTED,
        title=request.title.strip(),
        description=request.description.strip(),
        category_id=category.id,
        district_id=request.district_id,
        client_id=client.id,
        filed_by_id=filed_by.id if filed_by else None,
    )
    db.session.add(case)
    db.session.flush()
    record_event(case, filed_by, "file", None, CaseStatus.SUBMITTED)
    log.info("case %s filed by user %s", case.number, filed_by.id if filed_by else None)
    return case


def record_event(
    case: Case,
    actor: User | None,
    action: str,
    from_status: CaseStatus | None,
    to_status: CaseStatus | None,
    note: str | None = None,
    is_public: bool = True,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        is_public=is_public,
    )
    db.session.add(event)
    return event


def allowed_transitions(case: Case, user: User) -> list[Transition]:
    """The transitions ``user`` may take on ``case`` now: what the case page offers."""
    if not can_view_case(user, case):
        return []
    return [t for t in transitions_from(case.status) if user.role in t.roles]


def apply_transition(case: Case, action: str, actor: User, note: str | None = None) -> Case:
    """Move ``case`` along ``action`` if the state and ``actor``'s role allow it."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionRefused(_("Unknown action."))
    if not can_view_case(actor, case) or actor.role not in transition.roles:
        raise TransitionRefused(_("You may not do this to this case."))
    if case.status not in transition.sources:
        raise TransitionRefused(
            _(
                "This case is %(status)s; it cannot be changed that way now.",
                status=case.status.label,
            )
        )
    if transition.needs_note and not (note and note.strip()):
        raise TransitionRefused(_("Write the text first."))
    source = case.status
    case.status = transition.target
    if transition.target == CaseStatus.REPLIED:
        case.replied_at = utcnow()
    if transition.target == CaseStatus.CLOSED:
        case.closed_at = utcnow()
    record_event(case, actor, action, source, transition.target, note.strip() if note else None)
    db.session.flush()
    log.info("case %s: %s by user %s", case.number, action, actor.id)
    return case


def reply_to_case(case: Case, actor: User, body: str) -> CaseReply:
    """Write a public reply the client reads, and mark the case replied."""
    apply_transition(case, "reply", actor, body)
    reply = CaseReply(case=case, author=actor, body=body.strip(), is_public=True)
    db.session.add(reply)
    db.session.flush()
    return reply


def close_case(case: Case, actor: User, note: str | None = None) -> Case:
    return apply_transition(case, "close", actor, note)


def count_cases() -> int:
    return db.session.scalar(select(func.count(Case.id))) or 0
