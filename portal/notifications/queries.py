"""Read side of the inbox: one user's messages, newest first, and the unread count."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from portal.db import db
from portal.notifications.models import InboxMessage


def inbox_query(user_id: int) -> Select:
    """The messages of ``user_id``, newest first (the (user_id, created_at) index)."""
    return (
        select(InboxMessage)
        .where(InboxMessage.user_id == user_id)
        .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
    )


def case_numbers(case_ids: set[int]) -> dict[int, str]:
    """Tracking numbers of the cases a page of messages is about, in one query."""
    from cases.models import Case

    if not case_ids:
        return {}
    rows = db.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids)))
    return {case_id: number for case_id, number in rows}


def unread_count(user_id: int) -> int:
    """How many of the user's messages are unread (reads the (user_id, created_at) index)."""
    stmt = select(func.count()).where(
        InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None)
    )
    return db.session.scalar(stmt) or 0
