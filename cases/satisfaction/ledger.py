"""The 差评 ledger (整改台账, ``/ratings/ledger``): every bad review, filtered, paged, exported.

Scoped by ``visibility.ledger_scope`` (the city for supervisors, admins and officials; a
department head's own department). A review counts as overdue when the sweep marked it,
or when its running deadline has passed and the sweep has not come by yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import joinedload

from cases.models import Case
from cases.satisfaction.bad_reviews import TIMED
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.visibility import ledger_scope
from cases.satisfaction.vocabulary import (
    OUTCOMES,
    RESOLUTIONS,
    BadReviewStage,
    level_label,
)
from portal.db import db
from portal.exports import Table
from portal.models import User

EXPORT_LIMIT = 10_000  # rows in one download; narrow the filters for more


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger's filter form asks; None is "any"."""

    department_id: int | None = None
    stage: BadReviewStage | None = None
    outcome: str | None = None  # a key of OUTCOMES, or "open" (no outcome yet)
    overdue: bool | None = None
    opened_from: date | None = None
    opened_to: date | None = None  # inclusive

    @classmethod
    def parse(cls, args) -> LedgerFilter:
        """From the query string; a value that is not one of the choices is ignored."""
        stage = args.get("stage")
        outcome = args.get("outcome")
        overdue = args.get("overdue")
        return cls(
            department_id=_int(args.get("department")),
            stage=BadReviewStage(stage) if stage in BadReviewStage._value2member_map_ else None,
            outcome=outcome if outcome in OUTCOMES or outcome == "open" else None,
            overdue={"yes": True, "no": False}.get(overdue or ""),
            opened_from=_day(args.get("from")),
            opened_to=_day(args.get("to")),
        )

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for the pager and the export link)."""
        values = {
            "department": self.department_id,
            "stage": self.stage.value if self.stage else None,
            "outcome": self.outcome,
            "overdue": None if self.overdue is None else ("yes" if self.overdue else "no"),
            "from": self.opened_from.isoformat() if self.opened_from else None,
            "to": self.opened_to.isoformat() if self.opened_to else None,
        }
        return {k: str(v) for k, v in values.items() if v is not None}


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """Marked by the sweep, or a running deadline already past."""
    return or_(
        BadReview.overdue_at.is_not(None),
        and_(BadReview.stage.in_(TIMED), BadReview.due_at <= now),
    )


def review_overdue(review: BadReview, now: datetime) -> bool:
    """Predicate twin of ``is_overdue``."""
    return review.overdue_at is not None or (
        review.stage in TIMED and review.due_at is not None and review.due_at <= now
    )


def ledger_query(user: User, filters: LedgerFilter, now: datetime) -> Select:
    """The bad reviews ``user`` reads, filtered, newest first."""
    stmt = (
        select(BadReview)
        .where(ledger_scope(user))
        .options(
            joinedload(BadReview.rating),
            joinedload(BadReview.case).load_only(Case.id, Case.number, Case.title),
            joinedload(BadReview.department),
        )
        .order_by(BadReview.created_at.desc(), BadReview.id.desc())
    )
    if filters.department_id is not None:
        stmt = stmt.where(BadReview.department_id == filters.department_id)
    if filters.stage is not None:
        stmt = stmt.where(BadReview.stage == filters.stage)
    if filters.outcome == "open":
        stmt = stmt.where(BadReview.outcome.is_(None))
    elif filters.outcome is not None:
        stmt = stmt.where(BadReview.outcome == filters.outcome)
    if filters.overdue is not None:
        overdue = is_overdue(now)
        stmt = stmt.where(overdue if filters.overdue else ~overdue)
    if filters.opened_from is not None:
        stmt = stmt.where(BadReview.created_at >= _utc_start(filters.opened_from))
    if filters.opened_to is not None:
        stmt = stmt.where(
            BadReview.created_at < _utc_start(filters.opened_to + timedelta(days=1))
        )
    return stmt


def ledger_table(user: User, filters: LedgerFilter, now: datetime) -> Table:
    """The filtered ledger as a table to download (cells are neutralised by the writer)."""
    columns = [
        _("Tracking number"), _("Handling department"), _("Rating"), _("Counts"),
        _("Comment"), _("Stage"), _("Deadline"), _("Overdue"), _("Resolution"),
        _("What was done"), _("Outcome"), _("Appeal decision"), _("Opened"),
        _("Verified"), _("Resolved"), _("Closed"),
    ]
    return Table(columns, _rows(user, filters, now))


def _rows(user: User, filters: LedgerFilter, now: datetime) -> Iterator[list[object]]:
    stmt = ledger_query(user, filters, now).limit(EXPORT_LIMIT)
    for review in db.session.scalars(stmt).unique():
        rating: Rating = review.rating
        yield [
            review.case.number,
            department_name(review),
            level_label(rating.level),
            _("Set aside") if rating.set_aside else _("Yes"),
            rating.comment,
            str(review.stage.label),
            _local(review.due_at),
            _("Yes") if review_overdue(review, now) else _("No"),
            str(RESOLUTIONS[review.resolution]) if review.resolution in RESOLUTIONS else "",
            review.resolution_note,
            str(OUTCOMES[review.outcome]) if review.outcome in OUTCOMES else "",
            appeal_decision(review),
            _local(review.created_at),
            _local(review.verified_at),
            _local(review.resolved_at),
            _local(review.closed_at),
        ]


def department_name(review: BadReview) -> str:
    return review.department.name if review.department is not None else _("Service centre")


def appeal_decision(review: BadReview) -> str:
    if review.appeal_upheld is None:
        return _("Awaiting decision") if review.stage is BadReviewStage.APPEALED else ""
    return _("Upheld") if review.appeal_upheld else _("Refused")


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, _tz())


def _local(value: datetime | None) -> str:
    return value.astimezone(_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def _int(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None
