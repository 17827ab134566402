"""Named permission predicates, used by views, loaders and templates alike."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user

from portal.extensions import login_manager
from portal.models import DEPARTMENT_ROLES, Role, User

if TYPE_CHECKING:
    from cases.models import Case

# Staff who see every case, whatever department handles it.
CITYWIDE_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.OFFICIAL, Role.ADMIN})


def can_view_case(user: User, case: Case) -> bool:
    """A client sees only their own cases; department staff only their department's."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role.is_client:
        return user.client_id is not None and case.client_id == user.client_id
    if user.role in CITYWIDE_ROLES:
        return True
    if user.role in DEPARTMENT_ROLES:
        return user.department_id is not None and case.department_id == user.department_id
    return False


def can_file_case(user: User) -> bool:
    return user.is_authenticated and user.role.is_client and user.client_id is not None


def can_work_queues(user: User) -> bool:
    return user.is_authenticated and user.role in {
        Role.CLERK,
        Role.HANDLER,
        Role.DEPARTMENT_HEAD,
        Role.SUPERVISOR,
        Role.ADMIN,
    }


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
