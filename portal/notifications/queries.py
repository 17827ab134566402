"""Read side of the inbox: one user's messages, newest first, and the unread count."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import Select, bindparam, func, select

from portal.db import db
from portal.notifications.models import InboxMessage


def inbox_query(user_id: int) -> Select:
    """The messages of ``user_id``, newest first (the (user_id, created_at) index)."""
    return (
        select(InboxMessage)
        .where(InboxMessage.user_id == user_id)
        .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
    )


CaseLinks = Callable[[set[int]], dict[int, tuple[str, str]]]


def set_case_links(app: Flask, links: CaseLinks) -> None:
    """How the inbox links the cases its messages are about: ``links(case_ids)`` gives
    ``{case_id: (url, text)}`` in one query (the cases room says; the core names no room)."""
    app.extensions["notifications.case_links"] = links


def case_links(case_ids: set[int]) -> dict[int, tuple[str, str]]:
    """The links to the cases a page of messages is about (none without a cases room)."""
    links: CaseLinks | None = current_app.extensions.get("notifications.case_links")
    return links(case_ids) if links is not None and case_ids else {}


# Built once: every staff and client page's header asks it (see ``refdata.stamp``).
_UNREAD = select(func.count()).where(
    InboxMessage.user_id == bindparam("user_id"), InboxMessage.read_at.is_(None)
)


def unread_count(user_id: int) -> int:
    """How many of the user's messages are unread (reads the (user_id, created_at) index)."""
    return db.session.scalar(_UNREAD, {"user_id": user_id}) or 0
