"""Telling people what happened: the pieces rooms write messages with, the inbox, the texts.

A room tells people about its own events (the cases room: ``cases.notifications``) with
``EventTemplates`` (the admins' texts of one event, with the built-in fallback),
``OutboxBatch`` (one outbox row per channel and address), ``add_inbox`` and
``absolute_url``. Outbox rows are delivered by ``portal.notifications.delivery`` once the
transaction commits. Services flush, never commit: the caller's transaction decides
whether anything is said at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.routing import BuildError

from portal import placeholders
from portal.config import DEFAULT_BASE_URL
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.i18n import parsed_locale
from portal.models import User
from portal.notifications.models import (
    InboxMessage,
    MessageChannel,
    MessageTemplate,
    OutboxMessage,
)
from portal.notifications.outbox import SUBJECT_MAX, queue_message
from portal.notifications.texts import (
    EVENT_LABELS,
    LOCALES,
    Text,
    channels_for,
    default_text,
    placeholder_names,
    render,
)
from portal.refdata import cached, register_models

log = logging.getLogger(__name__)


# --- addresses and languages -------------------------------------------------------


def absolute_url(endpoint: str, fallback_path: str, **values: str) -> str:
    """The address of ``endpoint`` under the configured ``BASE_URL``, for messages.

    The same in a request and outside one (the sweep, a worker): a message read later
    must point at the portal's external address, not at whatever host a request came
    in on. If the endpoint does not exist, ``fallback_path`` is joined instead.
    """
    base = base_url()
    if endpoint not in current_app.view_functions:
        return base + fallback_path
    adapter = current_app.url_map.bind("localhost")
    try:
        return base + adapter.build(endpoint, values)
    except BuildError:
        return base + fallback_path


def base_url() -> str:
    """``BASE_URL`` (or the former ``PUBLIC_BASE_URL``), without a trailing slash."""
    config = current_app.config
    base = config.get("BASE_URL") or config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL
    return base.rstrip("/")


@contextmanager
def babel_locale(locale: str) -> Iterator[None]:
    """``flask_babel.force_locale`` that also works in a bare app context.

    Flask-Babel skips forcing while ``g`` is empty (a fresh app context in a job). The
    locale is parsed once per identifier (``portal.i18n``): Babel's parse scans its list
    of locales each time (~0.5 ms; two or three a message).
    """
    g.setdefault("notifications_locale", locale)
    with force_locale(parsed_locale(locale)):
        yield


# --- writing messages ---------------------------------------------------------------


def _event_templates(event: str) -> dict[tuple, Text]:
    rows = db.session.scalars(select(MessageTemplate).where(MessageTemplate.event == event))
    return {(row.channel, row.locale): Text(row.subject or "", row.body) for row in rows}


# The admins' templates change as rarely as the catalogue: kept per process as reference
# data (``portal.refdata``: a template saved anywhere refreshes every process's copy), so
# telling of a filing does not read them twice (once per event) on every request.
register_models(MessageTemplate)


class EventTemplates:
    """The admins' templates of one event, rendered with fallback."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.rows = cached(f"message_templates:{event}", lambda: _event_templates(event))

    def render(self, channel: MessageChannel, locale: str, values: dict[str, str]) -> Text:
        default = default_text(self.event, channel, locale)
        template = self.rows.get((channel, locale)) or default
        text = render(template, values, default)
        return Text(text.subject[:SUBJECT_MAX], text.body)


class OutboxBatch:
    """The outbox rows of one event: at most one per channel and address."""

    def __init__(self, event: str, case_id: int) -> None:
        self.event = event
        self.case_id = case_id
        self.messages: list[OutboxMessage] = []
        self.seen: set[tuple[MessageChannel, str]] = set()

    def add(
        self, channel: MessageChannel, address: str, user: User | None, locale: str, text: Text
    ) -> None:
        address = address.strip()
        key = (channel, same_address(channel, address))
        if not address or key in self.seen:
            return
        self.seen.add(key)
        message = queue_message(channel, address, text.subject, text.body, self.event, user,
                                case_id=self.case_id, locale=locale)
        self.messages.append(message)


def same_address(channel: MessageChannel, address: str) -> str:
    """The form two addresses are compared in: e-mail case-blind, phones digits only."""
    if channel == MessageChannel.EMAIL:
        return address.strip().lower()
    return re.sub(r"[^\d+]", "", address)


def add_inbox(user: User, case_id: int, text: Text) -> InboxMessage:
    message = InboxMessage(user_id=user.id, case_id=case_id, subject=text.subject, body=text.body)
    db.session.add(message)
    return message


# --- the inbox ----------------------------------------------------------------------


def mark_read(user: User, message_id: int) -> bool:
    """Mark one of ``user``'s messages read; False if it is not theirs (or not there)."""
    message = db.session.get(InboxMessage, message_id)
    if message is None or message.user_id != user.id:
        return False
    if message.read_at is None:
        message.read_at = utcnow()
        db.session.flush()
    return True


def mark_all_read(user: User) -> int:
    """Mark every unread message of ``user`` read; how many were unread."""
    changed = db.session.execute(
        update(InboxMessage)
        .where(InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed


# --- the editable templates -------------------------------------------------------


def template_key_valid(event: str, channel: str, locale: str) -> bool:
    """Whether (event, channel, locale) names a message the portal sends."""
    return (
        event in EVENT_LABELS
        and channel in {c.value for c in channels_for(event)}
        and locale in LOCALES
    )


def message_template(event: str, channel: MessageChannel, locale: str) -> MessageTemplate | None:
    return db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.event == event,
            MessageTemplate.channel == channel,
            MessageTemplate.locale == locale,
        )
    )


def check_template_text(text: str, field: str) -> None:
    """Refuse placeholders the portal does not fill (``DomainError`` on ``field``)."""
    placeholders.check(text, placeholder_names(), field)


def save_message_template(
    event: str, channel: MessageChannel, locale: str, subject: str, body: str
) -> MessageTemplate:
    """Store an admin's text for (event, channel, locale), after checking its placeholders."""
    if not template_key_valid(event, channel.value, locale):
        raise DomainError(_("There is no such message."))
    subject = "" if channel == MessageChannel.SMS else subject.strip()
    body = body.strip()
    if not body:
        raise DomainError(_("Write the text of the message."), field="body")
    if channel != MessageChannel.SMS and not subject:
        raise DomainError(_("Write the subject of the message."), field="subject")
    check_template_text(subject, "subject")
    check_template_text(body, "body")
    row = message_template(event, channel, locale)
    if row is None:
        row = MessageTemplate(event=event, channel=channel, locale=locale, subject="", body="")
        db.session.add(row)
    row.subject = subject[:SUBJECT_MAX]
    row.body = body
    db.session.flush()
    log.info("message template %s/%s/%s saved", event, channel.value, locale)
    return row


def reset_message_template(event: str, channel: MessageChannel, locale: str) -> bool:
    """Go back to the built-in text; True if there was an admin's text to remove."""
    row = message_template(event, channel, locale)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    log.info("message template %s/%s/%s reset to the built-in text", event, channel.value, locale)
    return True


# --- staff preferences --------------------------------------------------------------


def save_staff_preferences(user: User, by_email: bool, by_sms: bool) -> None:
    """Store how ``user`` (staff) is told besides the inbox; a channel needs an address.

    Raises ``DomainError`` on the field when the account has no e-mail address or phone
    for the channel chosen (admins keep staff's addresses).
    """
    if by_email and not (user.email or "").strip():
        raise DomainError(
            _("Your account has no e-mail address: ask an administrator to add one."),
            field="by_email",
        )
    if by_sms and not (user.phone or "").strip():
        raise DomainError(
            _("Your account has no phone number: ask an administrator to add one."),
            field="by_sms",
        )
    user.notify_by_email = by_email
    user.notify_by_sms = by_sms
    db.session.flush()
    log.info("user %s: notification settings saved (e-mail %s, SMS %s)", user.id, by_email,
             by_sms)
