"""Who on the staff must act on a case now: the people ``cases.staff_alerts`` tells.

Each function returns active users, in a stable order, without duplicates. The chains
try one group after the other and stop at the first that is not empty, leaving out the
person who took the step (nobody is told of their own step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from cases.models import Case, CaseEvent, ExtensionRequest, ExtensionStatus
from portal.db import db
from portal.models import Role, User

Group = Callable[[], list[User]]


def _users(*conditions) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True), *conditions).order_by(User.id)
        )
    )


def department_members(department_id: int | None, role: Role) -> list[User]:
    """The active users of ``role`` in the department (none without a department)."""
    if department_id is None:
        return []
    return _users(User.department_id == department_id, User.role == role)


def supervisors() -> list[User]:
    return _users(User.role == Role.SUPERVISOR)


def hotspot_watchers() -> list[User]:
    """Who hears of a hot-spot alert: the supervisors, else the admins (never nobody)."""
    return first_of((supervisors, lambda: _users(User.role == Role.ADMIN)))


def clerks() -> list[User]:
    return _users(User.role == Role.CLERK)


def lead_department_id(case: Case) -> int | None:
    """The lead department, also when only the relationship has been set (not flushed)."""
    if case.department is not None:
        return case.department.id
    return case.department_id


def first_of(groups: Iterable[Group], exclude: int | None = None) -> list[User]:
    """The first group with someone in it other than user ``exclude``."""
    for group in groups:
        people = [u for u in group() if u.id != exclude]
        if people:
            return people
    return []


def union(*groups: list[User], exclude: int | None = None) -> list[User]:
    seen: dict[int, User] = {}
    for group in groups:
        for user in group:
            if user.id != exclude:
                seen.setdefault(user.id, user)
    return list(seen.values())


def assignee(case: Case) -> list[User]:
    if case.assignee_id is None:
        return []
    user = db.session.get(User, case.assignee_id)
    return [user] if user is not None and user.active else []


def handling_staff(case: Case, exclude: int | None = None) -> list[User]:
    """The case's handler: its assignee, else the lead department's heads, else its
    handlers, else the supervisors, so a message never goes to nobody."""
    department_id = lead_department_id(case)
    return first_of(
        (
            lambda: assignee(case),
            lambda: department_members(department_id, Role.DEPARTMENT_HEAD),
            lambda: department_members(department_id, Role.HANDLER),
            supervisors,
        ),
        exclude,
    )


def department_staff(department_id: int | None, exclude: int | None = None) -> list[User]:
    """Who signs for a case sent to the department: its handlers, else its heads, else
    the supervisors (a department nobody works in must not swallow the case)."""
    return first_of(
        (
            lambda: department_members(department_id, Role.HANDLER),
            lambda: department_members(department_id, Role.DEPARTMENT_HEAD),
            supervisors,
        ),
        exclude,
    )


def intake_side(case: Case, exclude: int | None = None) -> list[User]:
    """The service centre: the clerk who dispatched the case (the latest dispatch or
    transfer), if still active, else every active clerk."""
    dispatcher_id = db.session.scalar(
        select(CaseEvent.actor_id)
        .where(CaseEvent.case_id == case.id, CaseEvent.action.in_(("dispatch", "transfer")))
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    dispatcher = db.session.get(User, dispatcher_id) if dispatcher_id else None
    return first_of(
        (
            lambda: [dispatcher] if dispatcher is not None and dispatcher.active
            and dispatcher.role.is_staff else [],
            clerks,
            supervisors,
        ),
        exclude,
    )


def escalation_staff(case: Case, exclude: int | None = None) -> list[User]:
    """The supervisors and the lead department's heads; else the case's handler."""
    people = union(
        supervisors(),
        department_members(lead_department_id(case), Role.DEPARTMENT_HEAD),
        exclude=exclude,
    )
    return people or handling_staff(case, exclude)


def latest_extension(case: Case, decided: bool) -> ExtensionRequest | None:
    """The extension request of this step: the pending one, or the latest decided one."""
    requests = [
        r for r in case.extension_requests
        if (r.status != ExtensionStatus.PENDING) == decided
    ]
    if decided:
        requests = [r for r in requests if r.decided_at is not None]
        return max(requests, key=lambda r: r.decided_at, default=None)
    return requests[-1] if requests else None


def extension_requester(case: Case, exclude: int | None = None) -> list[User]:
    """The handler who asked for the extension just decided (if still active)."""
    request = latest_extension(case, decided=True)
    user = request.requested_by if request is not None else None
    if user is None or not user.active or user.id == exclude:
        return []
    return [user]
