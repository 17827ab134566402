"""Telling people what happened: inbox messages and outbox rows, written with the change.

``notify_case_event`` tells a case's client, ``notify_case_staff`` the staff handling it.
Both write ``InboxMessage`` rows directly and ``OutboxMessage`` rows (e-mail, SMS) for
``portal.notifications.delivery`` to send once the transaction commits. Services flush,
never commit: the caller's transaction decides whether anything is said at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app, g, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.routing import BuildError

from portal import placeholders
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User
from portal.notifications.models import (
    InboxMessage,
    MessageChannel,
    MessageTemplate,
    OutboxMessage,
)
from portal.notifications.outbox import SUBJECT_MAX, queue_message
from portal.notifications.texts import (
    CLIENT_EVENTS,
    LOCALES,
    PLACEHOLDERS,
    STAFF_EVENTS,
    Text,
    channels_for,
    default_text,
    normalise_locale,
    render,
)

if TYPE_CHECKING:
    from cases.models import Case

log = logging.getLogger(__name__)

ANONYMOUS = {"zh_CN": "匿名诉求人", "en": "Anonymous"}
# The timeline action whose public note a client event's ``{note}`` shows.
EVENT_ACTIONS = {
    "accept": ("accept",),
    "reply": ("reply", "answer"),
    "request_info": ("request_info",),
    "close": ("close",),
    "not_accept": ("not_accept",),
}


# --- telling people ---------------------------------------------------------------


def notify_case_event(case: Case, event: str, note: str | None = None) -> list[OutboxMessage]:
    """Tell the case's client about ``event`` (one of ``texts.CLIENT_EVENTS``).

    Every active web account of the client gets an inbox message; e-mail and SMS go
    out as the client chose (``notify_by_email``, ``notify_by_sms``), to the account's
    address or else the client record's. A client without an account (a phone caller)
    hears at the client record's address and phone. One message per address and
    channel; in the client's language. ``note`` fills ``{note}``; by default the public
    note of the step just taken (the refusal reason, the question asked).

    Returns the outbox rows written (flushed, not committed).
    """
    if event not in CLIENT_EVENTS:
        raise ValueError(f"not a client event: {event!r}")
    from citizens.models import Client

    client = db.session.get(Client, case.client_id)
    if client is None:
        return []
    locale = normalise_locale(client.locale)
    if note is None:
        note = _step_note(case, event)
    values = case_values(case, locale, note)
    values["client_name"] = client.name
    accounts = db.session.scalars(
        select(User)
        .where(User.client_id == client.id, User.active.is_(True))
        .order_by(User.id)
    ).all()
    recipients: list[tuple[User | None, str | None, str | None, str]] = [
        (user, user.email or client.email, user.phone or client.phone, user.display_name)
        for user in accounts
    ] or [(None, client.email, client.phone, client.name)]

    texts = _Templates(event)
    outbox = _Outbox(event, case.id)
    for user, email, phone, name in recipients:
        person = {**values, "recipient_name": name}
        if user is not None:
            _add_inbox(user, case.id, texts.render(MessageChannel.INBOX, locale, person))
        if client.notify_by_email and email:
            outbox.add(MessageChannel.EMAIL, email, user, locale,
                       texts.render(MessageChannel.EMAIL, locale, person))
        if client.notify_by_sms and phone:
            outbox.add(MessageChannel.SMS, phone, user, locale,
                       texts.render(MessageChannel.SMS, locale, person))
    db.session.flush()
    log.info(
        "case %s: told client %s about %s (%d accounts, %d outbox messages)",
        case.number, client.id, event, len(accounts), len(outbox.messages),
    )
    return outbox.messages


def notify_case_staff(case: Case, event: str, note: str | None = None) -> list[OutboxMessage]:
    """Tell the staff handling the case about ``event`` (one of ``texts.STAFF_EVENTS``).

    The handler is the case's assignee; without one (or if the account is disabled),
    the heads of the lead department. Each gets an inbox message and, if they have an
    address, an e-mail, in their own language (default zh_CN). Returns the outbox rows.
    """
    if event not in STAFF_EVENTS:
        raise ValueError(f"not a staff event: {event!r}")
    texts = _Templates(event)
    outbox = _Outbox(event, case.id)
    recipients = case_handlers(case)
    for user in recipients:
        locale = normalise_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])
        values = case_values(case, locale, note or "")
        values["client_name"] = ANONYMOUS[locale] if case.anonymous else _client_name(case)
        values["recipient_name"] = user.display_name
        _add_inbox(user, case.id, texts.render(MessageChannel.INBOX, locale, values))
        if user.email:
            outbox.add(MessageChannel.EMAIL, user.email, user, locale,
                       texts.render(MessageChannel.EMAIL, locale, values))
    db.session.flush()
    log.info(
        "case %s: told %d staff about %s (%d outbox messages)",
        case.number, len(recipients), event, len(outbox.messages),
    )
    return outbox.messages


def case_handlers(case: Case) -> list[User]:
    """Who handles the case now: its active assignee, else the lead department's heads."""
    if case.assignee_id is not None:
        assignee = db.session.get(User, case.assignee_id)
        if assignee is not None and assignee.active:
            return [assignee]
    if case.department_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.department_id == case.department_id,
                User.role == Role.DEPARTMENT_HEAD,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


# --- what the placeholders say ------------------------------------------------------


def case_values(case: Case, locale: str, note: str | None) -> dict[str, str]:
    """Placeholder values about ``case`` in ``locale`` (names are added by the caller)."""
    from cases.models import CaseReply

    reply = db.session.scalar(
        select(CaseReply.body)
        .where(CaseReply.case_id == case.id, CaseReply.is_public.is_(True))
        .order_by(CaseReply.id.desc())
        .limit(1)
    )
    with _babel_locale(locale):
        status = str(case.status.label)
    return {
        "number": case.number,
        "title": case.title,
        "status": status,
        "deadline": format_deadline(case.due_at or case.reply_due_at),
        "reply": reply or "",
        "note": note or "",
        "track_url": track_url(case.number),
        "case_url": absolute_url("cases.show", f"/cases/{case.number}", number=case.number),
    }


def format_deadline(value: datetime | None) -> str:
    """``2026-12-01 17:00`` in the portal's time zone (the same in both languages)."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def track_url(number: str) -> str:
    """The absolute address of the public progress page of case ``number``."""
    return absolute_url("cases.track", "/track?" + urlencode({"number": number}), number=number)


def absolute_url(endpoint: str, fallback_path: str, **values: str) -> str:
    """``url_for(endpoint, _external=True)`` when it can be built, else ``PUBLIC_BASE_URL``.

    Outside a request (the sweep, a worker) and without ``SERVER_NAME`` the route's
    path is joined to ``PUBLIC_BASE_URL``; if the endpoint does not exist, ``fallback_path``.
    """
    base = current_app.config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    if endpoint not in current_app.view_functions:
        return base + fallback_path
    try:
        return url_for(endpoint, _external=True, **values)
    except (RuntimeError, BuildError):
        adapter = current_app.url_map.bind("localhost")
        return base + adapter.build(endpoint, values)


def _client_name(case: Case) -> str:
    from citizens.models import Client

    client = db.session.get(Client, case.client_id)
    return client.name if client else ""


def _step_note(case: Case, event: str) -> str:
    """The public note of the latest timeline step behind ``event`` (reason, question)."""
    from cases.models import CaseEvent

    actions = EVENT_ACTIONS.get(event)
    if not actions:
        return ""
    note = db.session.scalar(
        select(CaseEvent.note)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.action.in_(actions),
            CaseEvent.is_public.is_(True),
        )
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    return note or ""


@contextmanager
def _babel_locale(locale: str) -> Iterator[None]:
    """``flask_babel.force_locale`` that also works in a bare app context.

    Flask-Babel skips forcing while ``g`` is empty (a fresh app context in a job).
    """
    g.setdefault("notifications_locale", locale)
    with force_locale(locale):
        yield


# --- writing messages ---------------------------------------------------------------


class _Templates:
    """The admins' templates of one event, read once per call, rendered with fallback."""

    def __init__(self, event: str) -> None:
        self.event = event
        rows = db.session.scalars(select(MessageTemplate).where(MessageTemplate.event == event))
        self.rows = {(row.channel, row.locale): row for row in rows}

    def render(self, channel: MessageChannel, locale: str, values: dict[str, str]) -> Text:
        default = default_text(self.event, channel, locale)
        row = self.rows.get((channel, locale))
        template = Text(row.subject or "", row.body) if row else default
        text = render(template, values, default)
        return Text(text.subject[:SUBJECT_MAX], text.body)


class _Outbox:
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


def _add_inbox(user: User, case_id: int, text: Text) -> InboxMessage:
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
        event in CLIENT_EVENTS + STAFF_EVENTS
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
    placeholders.check(text, PLACEHOLDERS, field)


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
