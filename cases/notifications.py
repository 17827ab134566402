"""Telling people about a case: its client, and the staff handling it.

``notify_case_event`` tells a case's client, ``notify_case_staff`` the staff handling it.
Both write inbox rows and outbox rows (e-mail, SMS) with the pieces of
``portal.notifications.services``, in the same transaction as the change; the texts are
the case events of ``cases.notification_texts``. Flushes, never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from cases.models import Case, CaseReply
from cases.notification_texts import CLIENT_EVENTS, STAFF_EVENTS
from cases.public import latest_public_note, latest_reply
from cases.staff_recipients import handling_staff
from citizens.models import Client
from portal.changes import INSERT, recorded
from portal.db import db
from portal.models import User
from portal.notifications.models import MessageChannel, OutboxMessage
from portal.notifications.services import (
    EventTemplates,
    OutboxBatch,
    absolute_url,
    add_inbox,
    babel_locale,
)
from portal.notifications.texts import normalise_locale

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


_SILENCED = "cases.notifications.silenced"  # session.info flag


@contextmanager
def silenced() -> Iterator[None]:
    """Write case steps without telling anyone, client or staff, in this session (history
    loaded as demo data or imported: its messages would be stale before they are read)."""
    before = db.session.info.get(_SILENCED, False)
    db.session.info[_SILENCED] = True
    try:
        yield
    finally:
        db.session.info[_SILENCED] = before


def is_silenced() -> bool:
    return bool(db.session.info.get(_SILENCED))


# --- telling people ---------------------------------------------------------------


def notify_case_event(case: Case, event: str, note: str | None = None) -> list[OutboxMessage]:
    """Tell the case's client about ``event`` (one of ``CLIENT_EVENTS``).

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
    if is_silenced():
        return []
    client = db.session.get(Client, case.client_id)
    if client is None:
        return []
    locale = normalise_locale(client.locale)
    if note is None:
        note = _step_note(case, event)
    fresh = _unanswered_new_case(case)
    values = case_values(case, locale, note, None if fresh else latest_reply(case))
    values["client_name"] = client.name
    values["rate_url"] = track_url(case.number) if fresh else case_rate_url(case)
    accounts = db.session.scalars(
        select(User)
        .where(User.client_id == client.id, User.active.is_(True))
        .order_by(User.id)
    ).all()
    recipients: list[tuple[User | None, str | None, str | None, str]] = [
        (user, user.email or client.email, user.phone or client.phone, user.display_name)
        for user in accounts
    ] or [(None, client.email, client.phone, client.name)]

    texts = EventTemplates(event)
    outbox = OutboxBatch(event, case.id)
    for user, email, phone, name in recipients:
        person = {**values, "recipient_name": name}
        if user is not None:
            add_inbox(user, case.id, texts.render(MessageChannel.INBOX, locale, person))
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
    """Tell the staff handling the case about ``event`` (one of ``STAFF_EVENTS``).

    The handler is the case's active assignee, else the lead department's heads, else
    its handlers, else the supervisors (``cases.staff_recipients.handling_staff``).
    """
    return notify_staff(case, event, handling_staff(case), note)


def notify_staff(
    case: Case | None,
    event: str,
    recipients: list[User],
    note: str | None = None,
    values: dict[str, str] | None = None,
    localised: Callable[[str], dict[str, str]] | None = None,
) -> list[OutboxMessage]:
    """Tell ``recipients`` (staff) about ``event`` (one of ``STAFF_EVENTS``).

    Each gets an inbox message, and an e-mail and an SMS as they chose
    (``notify_by_email``, ``notify_by_sms``) when they have an address or phone, in
    their own language (default: the portal's). ``values`` adds placeholder values,
    ``localised(locale)`` ones that depend on the language. Returns the outbox rows.
    ``case`` is None for news about no one case (a hot-spot alert): the messages then
    carry no case and ``values`` fill every placeholder but the recipient's name.
    """
    if event not in STAFF_EVENTS:
        raise ValueError(f"not a staff event: {event!r}")
    texts = EventTemplates(event)
    case_id = case.id if case is not None else None
    outbox = OutboxBatch(event, case_id)
    # Read once for every recipient (nothing in the loop writes a reply).
    reply = None if case is None or _unanswered_new_case(case) else latest_reply(case)
    for user in recipients:
        locale = normalise_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])
        person = {"note": note or ""}
        if case is not None:
            person = case_values(case, locale, note or "", reply)
            person["client_name"] = ANONYMOUS[locale] if case.anonymous else _client_name(case)
            person["department"] = _department_name(case, locale)
        person["recipient_name"] = user.display_name
        person.update(values or {})
        if localised is not None:
            person.update(localised(locale))
        add_inbox(user, case_id, texts.render(MessageChannel.INBOX, locale, person))
        if user.notify_by_email and user.email:
            outbox.add(MessageChannel.EMAIL, user.email, user, locale,
                       texts.render(MessageChannel.EMAIL, locale, person))
        if user.notify_by_sms and user.phone:
            outbox.add(MessageChannel.SMS, user.phone, user, locale,
                       texts.render(MessageChannel.SMS, locale, person))
    db.session.flush()
    about = f"case {case.number}" if case is not None else "no case"
    if recipients:
        log.info(
            "%s: told %d staff about %s (%d outbox messages)",
            about, len(recipients), event, len(outbox.messages),
        )
    else:
        log.warning("%s: nobody on the staff to tell about %s", about, event)
    return outbox.messages


def _department_name(case: Case, locale: str) -> str:
    department = case.department
    if department is None:
        return ""
    return department.name_en if locale == "en" and department.name_en else department.name_zh


# --- what the placeholders say ------------------------------------------------------


def case_values(case: Case, locale: str, note: str | None, reply: str | None) -> dict[str, str]:
    """Placeholder values about ``case`` in ``locale`` (names are added by the caller);
    ``reply`` is the case's latest public reply (``latest_reply``)."""
    with babel_locale(locale):
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


def case_rate_url(case: Case) -> str:
    """The link of the case's latest rating (the one the answer just given waits for),
    or the progress page when no answer has been rated yet (a merged duplicate's)."""
    # Imported here: satisfaction builds on the cases room, not the other way round.
    from cases.satisfaction.services import latest_rating
    from cases.satisfaction.tokens import rate_url

    rating = latest_rating(case.id)
    return rate_url(rating) if rating is not None else track_url(case.number)


def _unanswered_new_case(case: Case) -> bool:
    """Whether ``case`` was inserted in this transaction and no reply has been written in
    it: then it has no reply and no rating (a rating is asked for a reply), and telling
    of its filing and routing need not read them (two or three statements a filing)."""
    written = recorded()
    if written.get(("case", case.id)) != INSERT:
        return False
    if any(entity == "case_reply" for entity, _id in written):
        return False
    return not any(isinstance(obj, CaseReply) for obj in db.session.new)


def format_deadline(value: datetime | None) -> str:
    """``2026-12-01 17:00`` in the portal's time zone (the same in both languages)."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def track_url(number: str) -> str:
    """The absolute address of the public progress page of case ``number``."""
    return absolute_url("cases.track", "/track?" + urlencode({"number": number}), number=number)


def _client_name(case: Case) -> str:
    client = db.session.get(Client, case.client_id)
    return client.name if client else ""


def _step_note(case: Case, event: str) -> str:
    """The public note of the latest timeline step behind ``event`` (reason, question)."""
    actions = EVENT_ACTIONS.get(event)
    if not actions:
        return ""
    return latest_public_note(case, actions) or ""


# --- the inbox's links --------------------------------------------------------------


def inbox_case_links(case_ids: set[int]) -> dict[int, tuple[str, str]]:
    """For the inbox: the case page and its name, per case a page of messages is about."""
    rows = db.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids)))
    return {
        case_id: (url_for("cases.show", number=number), _("Request %(number)s", number=number))
        for case_id, number in rows
    }
