"""The supervisor's list: what waits for a supervisor (or an admin) to act on.

Three bounded lists, each one indexed query with its rows' relations loaded up front:
pending extension requests (``extension_requests.status``), escalated open cases and
supervised open cases near their deadline (``ix_cases_supervised_due_at``). The counts
feed the navigation's badge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from cases.models import Case, CaseStatus, ExtensionRequest, ExtensionStatus
from cases.visibility import visible_cases
from cases.workflow import ESCALATION_REASONS, SUPERVISORS  # noqa: F401  (re-exported)
from portal.db import db
from portal.models import User
from portal.permissions import has_role_in

OPEN_STATUSES = tuple(s for s in CaseStatus if s.is_open)
# Why the sweep escalated a case (``cases.sweep.escalation_reason``).
# Each list shows at most this many rows (the oldest first); the count says how many wait.
LIST_LIMIT = 50


def can_supervise(user: User) -> bool:
    """Supervisors and admins decide extensions and watch escalated cases."""
    return has_role_in(user, SUPERVISORS)


def pending_extensions_query(user: User) -> Select:
    """Pending extension requests on open cases ``user`` sees, the oldest first."""
    return (
        select(ExtensionRequest)
        .join(ExtensionRequest.case)
        .where(
            ExtensionRequest.status == ExtensionStatus.PENDING,
            Case.status.in_(OPEN_STATUSES),
            visible_cases(user),
        )
        .options(
            joinedload(ExtensionRequest.case).joinedload(Case.department),
            joinedload(ExtensionRequest.requested_by),
        )
        .order_by(ExtensionRequest.created_at, ExtensionRequest.id)
    )


def _case_options(stmt: Select) -> Select:
    return stmt.options(joinedload(Case.department), joinedload(Case.assignee))


def escalated_query(user: User) -> Select:
    """Open cases the sweep escalated (they are supervised too), the earliest first."""
    stmt = select(Case).where(
        Case.supervised.is_(True),
        Case.escalated_at.is_not(None),
        Case.status.in_(OPEN_STATUSES),
        visible_cases(user),
    )
    return _case_options(stmt).order_by(Case.escalated_at, Case.id)


def near_deadline_query(user: User, now: datetime) -> Select:
    """Supervised open cases (not escalated: listed above) whose deadline is near or past."""
    stmt = select(Case).where(
        Case.supervised.is_(True),
        Case.escalated_at.is_(None),
        Case.status.in_(OPEN_STATUSES),
        or_(Case.due_soon_at <= now, Case.due_at <= now),
        visible_cases(user),
    )
    return _case_options(stmt).order_by(Case.due_at.asc().nulls_last(), Case.id)


def _count(stmt: Select) -> int:
    inner = stmt.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)
    return db.session.scalar(inner) or 0


@dataclass
class Section:
    """One list of the page: its first rows and how many there are in all."""

    rows: list
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


@dataclass
class SupervisionList:
    extensions: Section
    escalated: Section
    near_deadline: Section

    @property
    def total(self) -> int:
        return self.extensions.total + self.escalated.total + self.near_deadline.total


def _section(stmt: Select, limit: int) -> Section:
    rows = list(db.session.scalars(stmt.limit(limit)).unique())
    total = len(rows) if len(rows) < limit else _count(stmt)
    return Section(rows, total)


def supervision_list(user: User, now: datetime, limit: int = LIST_LIMIT) -> SupervisionList:
    """What waits for ``user`` (a supervisor or an admin)."""
    return SupervisionList(
        extensions=_section(pending_extensions_query(user), limit),
        escalated=_section(escalated_query(user), limit),
        near_deadline=_section(near_deadline_query(user, now), limit),
    )


def _count_subquery(stmt: Select):
    return (
        stmt.order_by(None)
        .with_only_columns(func.count(), maintain_column_froms=True)
        .scalar_subquery()
    )


def waiting_count(user: User, now: datetime) -> int:
    """How many items wait on ``user``'s list (the navigation's badge): one statement."""
    counts = db.session.execute(
        select(
            _count_subquery(pending_extensions_query(user)),
            _count_subquery(escalated_query(user)),
            _count_subquery(near_deadline_query(user, now)),
        )
    ).one()
    return sum(int(c or 0) for c in counts)
