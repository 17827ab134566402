"""Staff accounts as an administrator keeps them: create, change, disable, enable, reset.

Client accounts (citizens, enterprise representatives) are not kept here: clients keep
their own, and merges and anonymisation change them through the clients room. Every
change is recorded (``portal.admin.audit``) in its own transaction. An administrator may
not disable or demote themself, and the last active administrator stays one. Flushes,
never commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from portal.admin.audit import changes, record_action
from portal.admin.services import chosen_department, clean
from portal.auth.passwords import request_password_reset
from portal.auth.services import create_staff_user
from portal.auth.sessions import end_sessions
from portal.db import db
from portal.errors import DomainError
from portal.models import CLIENT_ROLES, DEPARTMENT_ROLES, Department, Role, User, UserSession
from portal.validators import normalise_phone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffData:
    """What an administrator may change of a staff account."""

    display_name: str
    role: Role
    department_id: int | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class StaffFilter:
    """The staff list's filters (all optional)."""

    role: Role | None = None
    department_id: int | None = None
    active: bool | None = None
    q: str | None = None


def snapshot(user: User) -> dict[str, object]:
    """The recorded fields of an account (never the password)."""
    return {
        "display_name": user.display_name,
        "role": user.role.value,
        "department_id": user.department_id,
        "email": user.email,
        "phone": user.phone,
    }


def staff_query(filters: StaffFilter):
    """Staff accounts (never clients) matching ``filters``, by role then username."""
    stmt = (
        select(User)
        .where(User.role.not_in(CLIENT_ROLES))
        .options(joinedload(User.department))
        .order_by(User.role, func.lower(User.username), User.id)
    )
    if filters.role is not None:
        stmt = stmt.where(User.role == filters.role)
    if filters.department_id is not None:
        stmt = stmt.where(User.department_id == filters.department_id)
    if filters.active is not None:
        stmt = stmt.where(User.active.is_(filters.active))
    if filters.q:
        pattern = "%" + filters.q.lower().replace("\\", "\\\\").replace("%", r"\%").replace(
            "_", r"\_"
        ) + "%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    return stmt


def staff_account(user_id: int) -> User | None:
    """The staff account ``user_id``; None for a client's account or no account."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.role.is_staff else None


def _keep_an_admin(user: User) -> None:
    """Refuse to take the last active administrator away."""
    if user.role is not Role.ADMIN or not user.active:
        return
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise DomainError(
            _("This is the last active administrator: make another one first."), field="role"
        )


def create_staff_account(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    department: Department | None,
    email: str | None,
) -> User:
    """Create a staff account (``create_staff_user``) and record it."""
    user = create_staff_user(
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        department=department,
        email=email,
    )
    record_action("user.create", user, {"username": user.username, **snapshot(user)})
    return user


def update_staff(user: User, data: StaffData, actor: User) -> User:
    """Change a staff account's name, role, department and contact data."""
    if data.role in CLIENT_ROLES:
        raise DomainError(_("Clients register themselves; choose a staff role."), field="role")
    if user.id == actor.id and data.role is not Role.ADMIN:
        raise DomainError(_("You cannot take the administrator role from yourself."),
                          field="role")
    if data.role is not Role.ADMIN:
        _keep_an_admin(user)
    department = chosen_department(data.department_id, user.department_id)
    if data.role in DEPARTMENT_ROLES and department is None:
        raise DomainError(
            _("Handlers and department heads belong to a department."), field="department_id"
        )
    display_name = clean(data.display_name)
    if not display_name:
        raise DomainError(_("Give a name."), field="display_name")
    before = snapshot(user)
    user.display_name = display_name
    user.role = data.role
    user.department = department
    user.email = clean(data.email) or None
    user.phone = normalise_phone(clean(data.phone)) or None
    db.session.flush()
    diff = changes(before, snapshot(user))
    if diff:
        record_action("user.update", user, diff, actor=actor)
        log.info("admin %s changed user %s: %s", actor.id, user.id, sorted(diff))
    return user


def disable_staff(user: User, actor: User) -> int:
    """Disable an account: it cannot sign in, and every sign-in ends now; how many."""
    if user.id == actor.id:
        raise DomainError(_("You cannot disable your own account."))
    if not user.active:
        return 0
    _keep_an_admin(user)
    ended = end_sessions(user)  # first: once the flag flushes, a listener ends them silently
    user.active = False
    record_action("user.disable", user, {"active": [True, False], "sessions_ended": ended},
                  actor=actor)
    return ended


def enable_staff(user: User, actor: User) -> None:
    """Let a disabled account sign in again (its old sign-ins stay ended)."""
    if user.active:
        return
    user.active = True
    db.session.flush()
    record_action("user.enable", user, {"active": [False, True]}, actor=actor)


def force_password_reset(user: User, actor: User, *, send_link: bool, locale: str) -> bool:
    """The account must choose a new password at its next sign-in; every sign-in ends.

    With ``send_link`` and an e-mail address, a reset link goes out too. Whether it did.
    """
    if user.id == actor.id:
        raise DomainError(_("Change your own password on the password page."))
    user.must_change_password = True
    ended = end_sessions(user)
    sent = bool(send_link and user.email and user.active
                and request_password_reset(user.username, locale))
    record_action(
        "user.force_reset", user, {"sessions_ended": ended, "reset_link_sent": sent}, actor=actor
    )
    return sent


def sign_out_everywhere(user: User, actor: User, keep: UserSession | None = None) -> int:
    """End every sign-in of ``user`` but ``keep``; how many."""
    ended = end_sessions(user, keep=keep)
    record_action("user.sign_out", user, {"sessions_ended": ended}, actor=actor)
    return ended
