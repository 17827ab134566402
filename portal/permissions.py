"""Role sets and named predicates about a user, for views, services and templates alike.

Which case or client record a user sees is decided in its room: ``cases.visibility``
and ``citizens.visibility`` (``portal`` imports no room).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from portal.extensions import login_manager
from portal.models import DEPARTMENT_ROLES, Role, User

# Staff who see every case, whatever department handles it.
CITYWIDE_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.OFFICIAL, Role.ADMIN})
# Staff of the service centre who take, dispatch and close cases.
INTAKE_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
QUEUE_ROLES = INTAKE_ROLES | DEPARTMENT_ROLES
# Staff who open client records (which ones: ``citizens.visibility``).
CLIENT_LIST_ROLES = CITYWIDE_ROLES | DEPARTMENT_ROLES
# Who keeps reply templates (heads their department's; supervisors and admins all).
REPLY_TEMPLATE_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.ADMIN})


def is_signed_in(user: User) -> bool:
    """Signed in with an account that is not disabled."""
    return bool(user.is_authenticated and user.is_active)


def has_role_in(user: User, roles: frozenset[Role]) -> bool:
    return bool(user.is_authenticated) and user.role in roles


def can_file_case(user: User) -> bool:
    return user.is_authenticated and user.role.is_client and user.client_id is not None


def can_work_queues(user: User) -> bool:
    return has_role_in(user, QUEUE_ROLES)


def is_intake_staff(user: User) -> bool:
    """The service centre: files for clients, dispatches, merges clients."""
    return has_role_in(user, INTAKE_ROLES)


def can_list_clients(user: User) -> bool:
    return has_role_in(user, CLIENT_LIST_ROLES)


def can_keep_reply_templates(user: User) -> bool:
    return has_role_in(user, REPLY_TEMPLATE_ROLES)


def is_admin(user: User) -> bool:
    return has_role_in(user, frozenset({Role.ADMIN}))


def can_see_internal(user: User) -> bool:
    """Internal notes and staff names are for staff only."""
    return user.is_authenticated and user.role.is_staff


# Exposed to every template (``portal.templating``): templates ask these, never roles.
TEMPLATE_PREDICATES = {
    f.__name__: f
    for f in (
        can_file_case,
        can_work_queues,
        is_intake_staff,
        can_list_clients,
        can_keep_reply_templates,
        is_admin,
        can_see_internal,
    )
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
