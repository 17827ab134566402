"""Read-side queries for lists and queues; each one indexed and paginated."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from cases.models import Case, CaseEvent, CaseReply, CaseStatus
from portal.db import db
from portal.models import User

QUEUE_NAMES = ("unassigned",)

# Cases no department holds yet: the intake desk's work.
UNASSIGNED_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED)


def _list_options(stmt: Select) -> Select:
    return stmt.options(
        joinedload(Case.category), joinedload(Case.district), joinedload(Case.department)
    )


def queue_query(name: str, user: User) -> Select:
    """The statement behind the staff queue ``name``."""
    if name == "unassigned":
        stmt = select(Case).where(
            Case.status.in_(UNASSIGNED_STATUSES), Case.department_id.is_(None)
        )
        return _list_options(stmt).order_by(Case.created_at, Case.id)
    raise KeyError(name)


def client_cases_query(client_id: int, status: CaseStatus | None = None) -> Select:
    stmt = select(Case).where(Case.client_id == client_id)
    if status is not None:
        stmt = stmt.where(Case.status == status)
    return _list_options(stmt).order_by(Case.created_at.desc(), Case.id.desc())


def paginate(stmt: Select, page: int, per_page: int) -> Pagination:
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


def case_by_number(number: str) -> Case | None:
    stmt = (
        select(Case)
        .where(Case.number == number)
        .options(
            joinedload(Case.category),
            joinedload(Case.district),
            joinedload(Case.client),
            selectinload(Case.events).joinedload(CaseEvent.actor),
            selectinload(Case.replies).joinedload(CaseReply.author),
        )
    )
    return db.session.scalar(stmt)
