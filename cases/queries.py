"""Read-side queries for lists and queues; each one indexed and paginated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import True_

from cases.models import (
    Attachment,
    Case,
    CaseAssist,
    CaseEvent,
    CaseReply,
    CaseStatus,
    CaseType,
    Category,
    ExtensionRequest,
    Priority,
)
from cases.visibility import scope_clause
from portal.db import db, unindexed
from portal.models import User
from portal.permissions import is_intake_staff

OPEN_STATUSES = tuple(s for s in CaseStatus if s.is_open)
AT_INTAKE = (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED)
WITH_DEPARTMENT = (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)

QUEUE_TITLES = {
    "mine": _l("My cases"),
    "department": _l("My department's cases"),
    "unassigned": _l("Unassigned"),
    "due-soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "waiting": _l("Waiting for the client"),
    "supervised": _l("Under supervision"),
    "answered": _l("Answered — to close or follow up"),
}
QUEUE_NAMES = tuple(QUEUE_TITLES)
# The service centre's own queues: department staff do not get them.
INTAKE_QUEUES = frozenset({"answered"})

SORTS = {
    "due": (Case.due_at.asc().nulls_last(), Case.id),
    "newest": (Case.created_at.desc(), Case.id.desc()),
    "oldest": (Case.created_at.asc(), Case.id),
    "replied": (Case.replied_at.asc().nulls_last(), Case.id),
}
# Queues that are a few cases of one or two states: on SQLite their order must not walk the
# sort column's index through the whole table (``portal.db.unindexed``).
BY_STATE = frozenset({"answered", "waiting"})
STATE_SORTS = {
    "due": (unindexed(Case.due_at).asc().nulls_last(), unindexed(Case.id)),
    "newest": (unindexed(Case.created_at).desc(), unindexed(Case.id).desc()),
    "oldest": (unindexed(Case.created_at).asc(), unindexed(Case.id)),
    "replied": (unindexed(Case.replied_at).asc().nulls_last(), unindexed(Case.id)),
}
# Intake works first come, first served; answers the oldest first; everything else by the
# nearest deadline.
DEFAULT_SORT = {"unassigned": "oldest", "waiting": "oldest", "answered": "replied"}
SORT_LABELS = {
    "due": _l("Deadline first"),
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "replied": _l("Oldest reply first"),
}
# Sorts that only make sense in one queue.
QUEUE_ONLY_SORTS = {"replied": "answered"}


def sort_labels(name: str) -> dict[str, object]:
    """The sorts the queue ``name`` offers."""
    return {k: v for k, v in SORT_LABELS.items() if QUEUE_ONLY_SORTS.get(k, name) == name}


@dataclass(frozen=True)
class QueueFilter:
    category_id: int | None = None
    district_id: int | None = None
    priority: Priority | None = None
    type: CaseType | None = None
    sort: str | None = None  # None: the queue's natural order (see DEFAULT_SORT)


def _list_options(stmt: Select) -> Select:
    return stmt.options(
        joinedload(Case.category),
        joinedload(Case.district),
        joinedload(Case.department),
        joinedload(Case.assignee),
    )


def _scoped(stmt: Select, user: User) -> Select:
    """Intake staff see every case; department staff their department's (the cases they
    act on, ``cases.visibility.scope_clause``)."""
    scope = scope_clause(user, "any")
    return stmt if isinstance(scope, True_) else stmt.where(scope)


def queue_query(
    name: str, user: User, now: datetime, filters: QueueFilter | None = None,
    columns: tuple = (),
) -> Select:
    """The statement behind the staff queue ``name`` (see ``QUEUE_NAMES``): its cases with
    their named rows, or plain rows of ``columns`` when given (the queue page's).

    "Due soon" is the running deadline's own warning window (``Case.due_soon_at``, set by
    ``cases.deadlines`` in proportion to the deadline's length), up to the deadline.
    """
    stmt = select(*columns) if columns else select(Case)
    if name == "mine":
        stmt = stmt.where(Case.assignee_id == user.id, Case.status.in_(OPEN_STATUSES))
    elif name == "department":
        stmt = stmt.where(
            Case.department_id == user.department_id, Case.status.in_(WITH_DEPARTMENT)
        )
    elif name == "unassigned":
        if is_intake_staff(user):
            stmt = stmt.where(Case.status.in_(AT_INTAKE))
        else:
            stmt = stmt.where(
                Case.department_id == user.department_id,
                Case.status.in_(WITH_DEPARTMENT),
                Case.assignee_id.is_(None),
            )
    elif name == "due-soon":
        stmt = _scoped(stmt.where(Case.due_soon_at <= now, Case.due_at > now), user)
    elif name == "overdue":
        stmt = _scoped(stmt.where(Case.due_at < now), user)
    elif name == "waiting":
        stmt = _scoped(stmt.where(Case.status == CaseStatus.WAITING), user)
    elif name == "supervised":
        # Escalation puts a case under supervision too (see cases.sweep).
        stmt = _scoped(stmt.where(Case.supervised.is_(True), Case.status.in_(OPEN_STATUSES)), user)
    elif name == "answered":
        # The department replied: the service centre closes the case or sends it back.
        if not is_intake_staff(user):
            raise KeyError(name)
        stmt = stmt.where(Case.status == CaseStatus.REPLIED)
    else:
        raise KeyError(name)
    filters = filters or QueueFilter()
    if filters.category_id:
        stmt = stmt.where(Case.category_id == filters.category_id)
    if filters.district_id:
        stmt = stmt.where(Case.district_id == filters.district_id)
    if filters.priority:
        stmt = stmt.where(Case.priority == filters.priority)
    if filters.type:
        stmt = stmt.where(Case.type == filters.type)
    sort = filters.sort if filters.sort in sort_labels(name) else DEFAULT_SORT.get(name, "due")
    by_state = name in BY_STATE or (name == "unassigned" and is_intake_staff(user))
    stmt = stmt.order_by(*(STATE_SORTS if by_state else SORTS)[sort])
    return stmt if columns else _list_options(stmt)


def client_cases_query(client_id: int, status: CaseStatus | None = None) -> Select:
    stmt = select(Case).where(Case.client_id == client_id)
    if status is not None:
        stmt = stmt.where(Case.status == status)
    return _list_options(stmt).order_by(Case.created_at.desc(), Case.id.desc())


# The case page's statements, built once: SQLAlchemy keeps a statement's cache key with
# it, so a statement kept from one request to the next is neither built nor keyed again
# (~0.2 ms of CPU each, six a case page).
_CASE_BY_NUMBER = (
    select(Case)
    .where(Case.number == bindparam("number"))
    .options(
        joinedload(Case.category).joinedload(Category.parent),
        joinedload(Case.district),
        joinedload(Case.client),
        joinedload(Case.department),
        joinedload(Case.assignee),
    )
)
_CASE_COLLECTIONS = (
    ("events", select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id"))
     .options(joinedload(CaseEvent.actor)).order_by(CaseEvent.id)),
    ("replies", select(CaseReply).where(CaseReply.case_id == bindparam("case_id"))
     .options(joinedload(CaseReply.author)).order_by(CaseReply.id)),
    ("assists", select(CaseAssist).where(CaseAssist.case_id == bindparam("case_id"))
     .options(joinedload(CaseAssist.department))),
    ("extension_requests", select(ExtensionRequest)
     .where(ExtensionRequest.case_id == bindparam("case_id"))
     .options(joinedload(ExtensionRequest.requested_by)).order_by(ExtensionRequest.id)),
)


def case_by_number(number: str) -> Case | None:
    """The case with what its page shows: the named rows joined, the timeline, replies,
    assists and extension requests each in one plain query (``load_case_collections``)."""
    case = db.session.scalar(_CASE_BY_NUMBER, {"number": number})
    if case is not None:
        load_case_collections(case)
    return case


def load_case_collections(case: Case) -> None:
    """Fill the case's collections, each from one query with its named rows joined.

    The same rows ``selectinload`` would bring, at a third of its cost for one case (it
    spends ~2 ms of CPU per collection building its per-parent statement); the lists are
    set as loaded from the database, so the unit of work treats them as such."""
    state = inspect(case)
    for key, stmt in _CASE_COLLECTIONS:
        if key not in state.unloaded:  # already loaded (and maybe changed) in this session
            continue
        set_committed_value(case, key, list(db.session.scalars(stmt, {"case_id": case.id})))


_CASE_ATTACHMENTS = (
    select(Attachment).where(Attachment.case_id == bindparam("case_id")).order_by(Attachment.id)
)


def load_case_attachments(case: Case) -> None:
    """The case page's attachments from a kept statement: the same rows, in the same order,
    as the relationship's lazy load, which builds its statement anew (~0.3 ms of CPU)."""
    if "attachments" in inspect(case).unloaded:
        set_committed_value(
            case, "attachments",
            list(db.session.scalars(_CASE_ATTACHMENTS, {"case_id": case.id})))


def cases_by_ids(ids: list[int]) -> list[Case]:
    stmt = select(Case).where(Case.id.in_(ids)).options(selectinload(Case.assists))
    return list(db.session.scalars(stmt.order_by(Case.id)))
