"""The in-app inbox, and the admins' editable message templates."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.admin.audit import add_action_label, record_action
from portal.db import db
from portal.models import Role
from portal.navigation import done
from portal.notifications import bp
from portal.notifications import cli as _cli  # noqa: F401  (flask notifications ...)
from portal.notifications import delivery as _delivery  # noqa: F401  (after-commit hooks)
from portal.notifications.forms import MessageTemplateForm, NotificationSettingsForm
from portal.notifications.models import MessageChannel, MessageTemplate
from portal.notifications.queries import case_links, inbox_query, unread_count
from portal.notifications.services import (
    mark_all_read,
    mark_read,
    message_template,
    reset_message_template,
    save_message_template,
    save_staff_preferences,
    template_key_valid,
)
from portal.notifications.texts import (
    EVENT_LABELS,
    LOCALES,
    PLACEHOLDER_HELP,
    Text,
    channels_for,
    default_text,
)
from portal.pagination import paginate
from portal.params import page_arg
from portal.permissions import role_required
from portal.transactions import form_errors

# --- the inbox ----------------------------------------------------------------------


@bp.app_context_processor
def inbox_globals() -> dict:
    """``inbox_nav_label()`` for the navigation: counts only when a page shows it."""
    return {"inbox_nav_label": inbox_nav_label}


def inbox_nav_label() -> str:
    if not current_user.is_authenticated:
        return _("Inbox")
    try:
        count = unread_count(current_user.id)
    except SQLAlchemyError:  # the navigation must not take an error page down with it
        return _("Inbox")
    return _("Inbox (%(count)d unread)", count=count) if count else _("Inbox")


@bp.route("/inbox")
@login_required
def inbox():
    pagination = paginate(inbox_query(current_user.id), page_arg(), current_app.config["PAGE_SIZE"])
    links = case_links({m.case_id for m in pagination.items if m.case_id})
    return render_template(
        "notifications/inbox.html",
        pagination=pagination,
        links=links,
        unread=unread_count(current_user.id),
    )


@bp.route("/inbox/<int:message_id>/read", methods=["POST"])
@login_required
def read(message_id: int):
    page = page_arg(values=request.form) if request.form.get("page") else None
    if not mark_read(current_user, message_id):
        abort(404)  # someone else's message is not there for you
    return redirect(url_for("notifications.inbox", page=page))


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def read_all():
    count = mark_all_read(current_user)
    return done(
        ngettext("%(num)d message marked as read.", "%(num)d messages marked as read.", count),
        "notifications.inbox",
    )


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Staff choose how they hear of cases besides the inbox (clients: ``/account``)."""
    if not current_user.role.is_staff:
        return redirect(url_for("citizens.account"))
    user = current_user
    form = NotificationSettingsForm(data={
        "by_email": user.notify_by_email and bool(user.email),
        "by_sms": user.notify_by_sms and bool(user.phone),
    })
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            save_staff_preferences(user, form.by_email.data, form.by_sms.data)
        if not outcome.refused:
            return done(_("Your notification settings are saved."), "notifications.settings")
    status = 422 if form.is_submitted() else 200
    return render_template("notifications/settings.html", form=form), status


# --- message templates ----------------------------------------------------------------


@dataclass(frozen=True)
class TemplateEntry:
    event: str
    channel: MessageChannel
    locale: str
    text: Text
    custom: bool


@bp.route("/admin/message-templates")
@role_required(Role.ADMIN)
def message_templates():
    rows = {
        (row.event, row.channel, row.locale): row
        for row in db.session.scalars(select(MessageTemplate))
    }
    groups = []
    for event in EVENT_LABELS:  # the rooms' events, as they registered them
        entries = []
        for channel in channels_for(event):
            for locale in LOCALES:
                row = rows.get((event, channel, locale))
                text = Text(row.subject, row.body) if row else default_text(event, channel, locale)
                entries.append(TemplateEntry(event, channel, locale, text, row is not None))
        groups.append((event, EVENT_LABELS[event], entries))
    return render_template("notifications/message_templates.html", groups=groups)


def _template_key(event: str, channel: str, locale: str) -> MessageChannel:
    if not template_key_valid(event, channel, locale):
        abort(404)
    return MessageChannel(channel)


add_action_label("message_text.update", _l("Reworded a message text"))
add_action_label("message_text.reset", _l("Restored a built-in message text"))


def _record_text(action: str, event: str, channel: MessageChannel, locale: str) -> None:
    record_action(action, target_type="message_text",
                  details={"code": f"{event} · {channel.value} · {locale}"})


@bp.route("/admin/message-templates/<event>/<channel>/<locale>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_message_template(event: str, channel: str, locale: str):
    message_channel = _template_key(event, channel, locale)
    row = message_template(event, message_channel, locale)
    default = default_text(event, message_channel, locale)
    current = Text(row.subject, row.body) if row else default
    form = MessageTemplateForm(data={"subject": current.subject, "body": current.body})
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            save_message_template(
                event, message_channel, locale, form.subject.data or "", form.body.data
            )
            _record_text("message_text.update", event, message_channel, locale)
        if not outcome.refused:
            return done(_("The message text is saved."), "notifications.message_templates")
    status = 422 if form.is_submitted() else 200
    return render_template(
        "notifications/message_template_form.html",
        form=form,
        event=event,
        event_label=EVENT_LABELS[event],
        channel=message_channel,
        locale=locale,
        language=current_app.config["LANGUAGES"].get(locale, locale),
        default=default,
        custom=row is not None,
        placeholders=PLACEHOLDER_HELP,
    ), status


@bp.route("/admin/message-templates/<event>/<channel>/<locale>/reset", methods=["POST"])
@role_required(Role.ADMIN)
def reset_template(event: str, channel: str, locale: str):
    message_channel = _template_key(event, channel, locale)
    if reset_message_template(event, message_channel, locale):
        _record_text("message_text.reset", event, message_channel, locale)
        flash(_("The built-in text is used again."), "success")
    return redirect(url_for("notifications.message_templates"))
