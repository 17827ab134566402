"""The record of what administrators did (``admin_actions``), and its rendering.

``record_action`` writes one row in the transaction of the change it records (it flushes,
never commits): who did it, what (``"user.update"``...), to which row, from which address,
and what changed as data (``{field: [old, new]}``, never a password). The rooms record
their own admin actions with it too (``add_action_label`` names their actions), without
the core naming them.

The activity page renders each row in the reader's language: action and field labels,
role labels and department names are looked up when the page is read, not stored as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from portal.db import db
from portal.models import ROLE_LABELS, AdminAction, Department, District, Role, User

# Never stored in ``details``, whatever a caller passes.
SECRET_KEYS = ("password", "token", "secret")

ACTION_LABELS: dict[str, Any] = {
    "user.create": _l("Created the account"),
    "user.update": _l("Changed the account"),
    "user.disable": _l("Disabled the account"),
    "user.enable": _l("Enabled the account"),
    "user.force_reset": _l("Forced a password change"),
    "user.sign_out": _l("Signed out everywhere"),
    "department.create": _l("Created the department"),
    "department.update": _l("Changed the department"),
    "district.create": _l("Created the district"),
    "district.update": _l("Changed the district"),
}

FIELD_LABELS: dict[str, Any] = {
    "username": _l("Username"),
    "display_name": _l("Name"),
    "role": _l("Role"),
    "department_id": _l("Department"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "active": _l("Active"),
    "code": _l("Code"),
    "name_zh": _l("Name (Chinese)"),
    "name_en": _l("Name (English)"),
    "is_active": _l("Active"),
    "position": _l("Position"),
    "sessions_ended": _l("Sessions ended"),
    "reset_link_sent": _l("Reset link sent by e-mail"),
}


def add_action_label(action: str, label: Any) -> None:
    """Name a room's action (``"category.update"``) on the activity page."""
    ACTION_LABELS[action] = label


def add_field_label(key: str, label: Any) -> None:
    """Name a key of a room's ``details`` (``"day"``) on the activity page."""
    FIELD_LABELS[key] = label


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value differs."""
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


def _storable(value: Any) -> Any:
    if isinstance(value, Role):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return str(value)


def _clean_details(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not details:
        return None
    return {
        key: _storable(value)
        for key, value in details.items()
        if not any(secret in key.lower() for secret in SECRET_KEYS)
    }


def record_action(
    action: str,
    target: Any = None,
    details: Mapping[str, Any] | None = None,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    actor: User | None = None,
) -> AdminAction:
    """Record one admin action in the current transaction (flushes, never commits).

    ``target`` is the changed row (its type is the action's prefix unless ``target_type``
    says otherwise); ``actor`` defaults to the signed-in user, the address to the
    request's.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    row = AdminAction(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type or action.split(".", 1)[0],
        target_id=target_id if target_id is not None else getattr(target, "id", None),
        details=_clean_details(details),
        address=(get_remote_address() or None) if has_request_context() else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


# --- reading --------------------------------------------------------------------------------


def activity_query(target_user_id: int | None = None) -> Select:
    """Every recorded action, newest first; only those on one account if asked."""
    stmt = select(AdminAction).options(joinedload(AdminAction.actor))
    if target_user_id is not None:
        stmt = stmt.where(
            AdminAction.target_type == "user", AdminAction.target_id == target_user_id
        )
    return stmt.order_by(AdminAction.created_at.desc(), AdminAction.id.desc())


def recent_actions(user: User, limit: int = 10) -> list[AdminAction]:
    return list(db.session.scalars(activity_query(user.id).limit(limit)))


@dataclass(frozen=True)
class Change:
    """One field of an action: ``old`` → ``new``, or only ``new`` (a value, not a change)."""

    label: str
    old: str | None
    new: str


@dataclass(frozen=True)
class ActivityRow:
    """One action as the reader reads it."""

    action: AdminAction
    label: str
    target: str
    target_user_id: int | None
    changes: list[Change]


class _Names:
    """Names of the rows an activity page mentions, loaded once per page."""

    def __init__(self, actions: Iterable[AdminAction]) -> None:
        actions = list(actions)
        ids: dict[str, set[int]] = {"user": set(), "department": set(), "district": set()}
        for action in actions:
            if action.target_type in ids and action.target_id is not None:
                ids[action.target_type].add(action.target_id)
            for key, pair in (action.details or {}).items():
                if key == "department_id":
                    values = pair if isinstance(pair, list) else [pair]
                    ids["department"].update(v for v in values if isinstance(v, int))
        self.rows: dict[str, dict[int, Any]] = {}
        for kind, model in (("user", User), ("department", Department), ("district", District)):
            found = (
                db.session.scalars(select(model).where(model.id.in_(ids[kind])))
                if ids[kind]
                else []
            )
            self.rows[kind] = {row.id: row for row in found}

    def target(self, action: AdminAction) -> str:
        row = self.rows.get(action.target_type, {}).get(action.target_id)
        if row is None:
            return f"{action.target_type} #{action.target_id}" if action.target_id else "—"
        if isinstance(row, User):
            return f"{row.display_name} ({row.username})"
        return f"{row.name} ({row.code})"

    def value(self, key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if key == "role" and value in Role._value2member_map_:
            return str(ROLE_LABELS[Role(value)])
        if key == "department_id":
            department = self.rows["department"].get(value)
            return department.name if department is not None else f"#{value}"
        return str(value)


def describe(actions: Iterable[AdminAction]) -> list[ActivityRow]:
    """The actions as the reader reads them (labels and names in their language)."""
    actions = list(actions)
    names = _Names(actions)
    rows = []
    for action in actions:
        details = action.details or {}
        found = []
        for key, value in details.items():
            label = str(FIELD_LABELS.get(key, key))
            if isinstance(value, list) and len(value) == 2:
                old, new = value
                found.append(Change(label, names.value(key, old), names.value(key, new)))
            else:
                found.append(Change(label, None, names.value(key, value)))
        rows.append(
            ActivityRow(
                action=action,
                label=str(ACTION_LABELS.get(action.action, action.action)),
                target=names.target(action),
                target_user_id=action.target_id if action.target_type == "user" else None,
                changes=found,
            )
        )
    return rows
