"""Named permission predicates, used by views, loaders and templates alike."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, false

from portal.extensions import login_manager
from portal.models import DEPARTMENT_ROLES, Role, User

if TYPE_CHECKING:
    from cases.models import Case

# Staff who see every case, whatever department handles it.
CITYWIDE_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.OFFICIAL, Role.ADMIN})
# Staff of the service centre who take, dispatch and close cases.
INTAKE_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
QUEUE_ROLES = INTAKE_ROLES | DEPARTMENT_ROLES


def is_assisting(user: User, case: Case) -> bool:
    return user.department_id is not None and any(
        a.department_id == user.department_id for a in case.assists
    )


def can_view_case(user: User, case: Case) -> bool:
    """Clients see their own cases; department staff their department's and those it assists."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role.is_client:
        return user.client_id is not None and case.client_id == user.client_id
    if user.role in CITYWIDE_ROLES:
        return True
    if user.role in DEPARTMENT_ROLES and user.department_id is not None:
        return case.department_id == user.department_id or is_assisting(user, case)
    return False


def in_scope(user: User, case: Case, scope: str) -> bool:
    """Whether ``user`` acts in ``scope`` on ``case`` (see ``cases.workflow``)."""
    if scope == "intake":
        return user.role in INTAKE_ROLES
    if scope == "department":
        return (
            user.role in DEPARTMENT_ROLES
            and user.department_id is not None
            and case.department_id == user.department_id
        )
    if scope == "owner":
        return user.role.is_client and user.client_id == case.client_id
    if scope == "any":
        return in_scope(user, case, "intake") or in_scope(user, case, "department")
    return False


def can_file_case(user: User) -> bool:
    return user.is_authenticated and user.role.is_client and user.client_id is not None


def can_work_queues(user: User) -> bool:
    return user.is_authenticated and user.role in QUEUE_ROLES


def can_see_reporter(user: User, case: Case) -> bool:
    """Who filed a case; for an anonymous tip-off only supervisors (and the reporter) know."""
    if not case.anonymous:
        return can_view_case(user, case)
    if user.role.is_client:
        return user.client_id == case.client_id
    return user.role == Role.SUPERVISOR


def reporter_hidden_clause(user: User) -> ColumnElement[bool]:
    """SQL twin of ``can_see_reporter``'s anonymity rule: the cases whose reporter ``user``
    may not know (anonymous tip-offs, unless a supervisor or the reporter looks).

    Lists leave these out and counts subtract them, so a count never exceeds what the
    viewer can list and nothing hints that a client filed a tip-off.
    """
    from cases.models import Case  # portal imports no room at module level

    if user.is_authenticated and user.role == Role.SUPERVISOR:
        return false()
    if user.is_authenticated and user.role.is_client and user.client_id is not None:
        return and_(Case.anonymous.is_(True), Case.client_id != user.client_id)
    return Case.anonymous.is_(True)


def can_see_internal(user: User) -> bool:
    """Internal notes and staff names are for staff only."""
    return user.is_authenticated and user.role.is_staff


def role_required(*roles: Role):
    """Decorator: 403 unless the signed-in user has one of ``roles``."""

    def decorator(view: Any) -> Any:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
