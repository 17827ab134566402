"""The ``servicerequestupdates`` extension (mySociety's, as FixMyStreet reads it).

An update is a step that changed a public matter's state (the state is public: ``GET
requests`` says it too): its ``status`` is the detailed state it moved to
(``statuses.EXTENDED``); its ``description`` is the public reply the step published (答复: a
reply is always published by a step), else the new state's name. A step's note is never
sent. Oldest first, so a client replaying them ends in the
current state.

Filters: ``start_date``/``end_date`` (the same 90-day window as ``GET requests``, on the
update's time), ``service_request_id`` (a comma list; overrides the dates), ``page`` and
``page_size``. ``update_id`` is ``e<event id>``.

The steps are found by their action among ``STATUS_ACTIONS`` (every step that sets a
state), so the timeline's (action, created_at) index serves the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Row, or_, select

from cases.models import CASE_STATUS_LABELS, Case, CaseEvent, CaseReply, CaseStatus
from cases.open311.formats import w3c, zone
from cases.open311.requests_feed import RequestFilter, parse_filter
from cases.open311.statuses import extended_status
from cases.visibility import public_matters
from cases.workflow import TRANSITIONS
from portal.db import db

# Every timeline action that sets a state: the workflow's steps, filing, routing (a
# dispatch by a rule) and a 差评 sent back to be put right (its step is staff's, but the
# state it sets is public). ``tests/test_open311_updates.py`` holds this list complete.
STATUS_ACTIONS = tuple(sorted({*TRANSITIONS, "file", "route", "bad_review_rectify"}))
# Steps that publish a reply (written in the same transaction, a moment apart).
REPLY_ACTIONS = frozenset({"reply", "answer"})
SAME_STEP = timedelta(seconds=5)


def parse_update_filter(args: Mapping[str, str]) -> RequestFilter:
    """The query string: dates, ids and pages as for ``GET requests`` (no status/code)."""
    return parse_filter({k: v for k, v in args.items() if k not in ("status", "service_code")})


def _steps(query: RequestFilter) -> list[Row]:
    stmt = (
        select(CaseEvent.id, CaseEvent.case_id, CaseEvent.action, CaseEvent.to_status,
               CaseEvent.is_public, CaseEvent.created_at, Case.number)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.action.in_(STATUS_ACTIONS),
            CaseEvent.to_status.is_not(None),
            or_(CaseEvent.from_status.is_(None), CaseEvent.from_status != CaseEvent.to_status),
            public_matters(),
        )
    )
    if query.ids:
        stmt = stmt.where(Case.number.in_(query.ids))
    else:
        stmt = stmt.where(CaseEvent.created_at >= query.start, CaseEvent.created_at <= query.end)
    stmt = (
        stmt.order_by(CaseEvent.created_at, CaseEvent.id)
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return db.session.connection().execute(stmt).all()


def _replies(steps: list[Row]) -> dict[int, str]:
    """The public reply each replying step published: event id → text (one query)."""
    replying = [s for s in steps if s.action in REPLY_ACTIONS and s.is_public]
    if not replying:
        return {}
    found: dict[int, list[tuple[datetime, str]]] = {}
    for case_id, at, body in db.session.execute(
        select(CaseReply.case_id, CaseReply.created_at, CaseReply.body)
        .where(CaseReply.case_id.in_({s.case_id for s in replying}),
               CaseReply.is_public.is_(True))
        .order_by(CaseReply.created_at, CaseReply.id)
    ):
        found.setdefault(case_id, []).append((at, body))
    texts = {}
    for step in replying:
        near = [(abs(at - step.created_at), body) for at, body in found.get(step.case_id, [])
                if abs(at - step.created_at) <= SAME_STEP]
        if near:
            texts[step.id] = min(near, key=lambda pair: pair[0])[1]
    return texts


def find_updates(query: RequestFilter, locale: str) -> list[dict]:
    """The page of updates asked for, oldest first."""
    steps = _steps(query)
    replies = _replies(steps)
    tz = zone()
    names: dict[CaseStatus, str] = {}
    updates = []
    with force_locale(locale):
        for step in steps:
            status = CaseStatus(step.to_status)
            if status not in names:
                names[status] = _("Status: %(status)s", status=CASE_STATUS_LABELS[status])
            updates.append({
                "update_id": f"e{step.id}",
                "service_request_id": step.number,
                "status": extended_status(status),
                "updated_datetime": w3c(step.created_at, tz),
                "description": replies.get(step.id, names[status]),
                "media_url": None,
                "external_status_code": status.value,
            })
    return updates
