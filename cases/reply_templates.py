"""Canned public replies (答复模板) with placeholders, kept by department heads."""

from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import or_, select

from cases.models import Case, ReplyTemplate
from portal import placeholders
from portal.db import db
from portal.errors import DomainError
from portal.models import Department, Role, User
from portal.permissions import REPLY_TEMPLATE_ROLES

PLACEHOLDERS = ("client_name", "number", "title", "deadline")
# The longest public reply (the case page's text field allows as much).
MAX_REPLY_LENGTH = 5000
MANAGERS = REPLY_TEMPLATE_ROLES


def placeholder_list() -> str:
    """``{client_name}, {number}, ...`` for hints and messages."""
    return placeholders.listing(PLACEHOLDERS)


def can_manage_templates(user: User) -> bool:
    return user.is_authenticated and user.role in MANAGERS


def can_edit_template(user: User, template: ReplyTemplate) -> bool:
    """Heads keep their department's templates; supervisors and admins keep all."""
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    return user.role == Role.DEPARTMENT_HEAD and template.department_id == user.department_id


def templates_for(user: User, include_inactive: bool = False) -> list[ReplyTemplate]:
    """The templates ``user`` may use: their department's and the citywide ones (read
    once per request: a queue page asks for its two forms)."""
    key = ("reply_templates", user.id, include_inactive)
    held = g.setdefault("_reply_templates", {}) if has_request_context() else {}
    if key not in held:
        held[key] = _templates_for(user, include_inactive)
    return list(held[key])


def forget_templates() -> None:
    """After a template changes, this request reads them again."""
    if has_request_context():
        g.pop("_reply_templates", None)


def _templates_for(user: User, include_inactive: bool) -> list[ReplyTemplate]:
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
    """Refuse unknown or decorated ``{names}`` and stray braces, so use never fails later."""
    placeholders.check(body, PLACEHOLDERS)


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
    forget_templates()
    return template


def render_reply(template: ReplyTemplate, case: Case, now: datetime | None = None) -> str:
    """The template's text for ``case``; an anonymous reporter is not named.

    Raises DomainError (field ``template``) when a stored template is malformed or the
    filled-in text would exceed MAX_REPLY_LENGTH: refused, never cut short.
    """
    name = _("Sir or Madam") if case.anonymous else case.client.name
    deadline = case.reply_due_at or case.due_at
    values = {
        "client_name": name,
        "number": case.number,
        "title": case.title,
        "deadline": format_datetime(deadline, "short") if deadline else "",
    }
    try:
        text = placeholders.fill(template.body, values)
    except DomainError as error:  # saved before placeholders were checked this strictly
        raise DomainError(
            _(
                "The reply template “%(title)s” cannot be used: %(reason)s",
                title=template.title,
                reason=error.message,
            ),
            field="template",
        ) from error
    if len(text) > MAX_REPLY_LENGTH:
        raise DomainError(
            _(
                "Filled in for case %(number)s, the reply template “%(title)s” has "
                "%(n)d characters; a reply may have at most %(max)d.",
                number=case.number,
                title=template.title,
                n=len(text),
                max=MAX_REPLY_LENGTH,
            ),
            field="template",
        )
    return text
