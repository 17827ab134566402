"""Canned public replies (答复模板) with placeholders, kept by department heads."""

from __future__ import annotations

import string
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import or_, select

from cases.models import Case, ReplyTemplate
from portal.db import db
from portal.errors import DomainError
from portal.models import Department, Role, User

PLACEHOLDERS = ("client_name", "number", "title", "deadline")
MANAGERS = frozenset({Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.ADMIN})


def placeholder_list() -> str:
    """``{client_name}, {number}, ...`` for hints and messages."""
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def can_manage_templates(user: User) -> bool:
    return user.is_authenticated and user.role in MANAGERS


def can_edit_template(user: User, template: ReplyTemplate) -> bool:
    """Heads keep their department's templates; supervisors and admins keep all."""
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    return user.role == Role.DEPARTMENT_HEAD and template.department_id == user.department_id


def templates_for(user: User, include_inactive: bool = False) -> list[ReplyTemplate]:
    """The templates ``user`` may use: their department's and the citywide ones."""
    stmt = select(ReplyTemplate)
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        stmt = stmt.where(
            or_(
                ReplyTemplate.department_id.is_(None),
                ReplyTemplate.department_id == user.department_id,
            )
        )
    if not include_inactive:
        stmt = stmt.where(ReplyTemplate.is_active.is_(True))
    return list(db.session.scalars(stmt.order_by(ReplyTemplate.title, ReplyTemplate.id)))


def check_placeholders(body: str) -> None:
    """Refuse unknown ``{names}`` and broken braces, so rendering never fails later."""
    try:
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(body) if name]
    except ValueError as error:
        raise DomainError(
            _("Braces must come in pairs, like {number}."), field="body"
        ) from error
    unknown = sorted(set(names) - set(PLACEHOLDERS))
    if unknown:
        raise DomainError(
            _(
                "Unknown placeholder: %(names)s. Use %(allowed)s.",
                names=", ".join(unknown),
                allowed=placeholder_list(),
            ),
            field="body",
        )


def save_reply_template(
    actor: User,
    template: ReplyTemplate | None,
    *,
    title: str,
    body: str,
    department: Department | None,
    is_active: bool = True,
) -> ReplyTemplate:
    """Create or update a template; heads may only keep their own department's."""
    if actor.role == Role.DEPARTMENT_HEAD:
        department = actor.department
    if template is not None and not can_edit_template(actor, template):
        raise DomainError(_("You may not change this template."))
    check_placeholders(body)
    if template is None:
        template = ReplyTemplate(created_by_id=actor.id)
        db.session.add(template)
    template.title = title.strip()
    template.body = body.strip()
    template.department = department
    template.is_active = is_active
    db.session.flush()
    return template


def render_reply(template: ReplyTemplate, case: Case, now: datetime | None = None) -> str:
    """The template's text for ``case``; an anonymous reporter is not named."""
    name = _("Sir or Madam") if case.anonymous else case.client.name
    deadline = case.reply_due_at or case.due_at
    values = {
        "client_name": name,
        "number": case.number,
        "title": case.title,
        "deadline": format_datetime(deadline, "short") if deadline else "",
    }
    return template.body.format_map(values)
