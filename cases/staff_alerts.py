"""Who on the staff hears of a step on a case: one table, one door.

``cases.services.rules.record_event`` calls ``alert_staff`` for every timeline line it
writes, so the case page, the bulk actions, routing at filing and the sweep all tell
staff the same way. ``ALERTS`` maps the timeline action to the staff event
(``cases.staff_texts``) and to who must act on it; the person who took the step is never
told. The client's information (``client_info``) is told by ``cases.attachments`` with
the text the client wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from cases.models import Case, CaseAssist, CaseEvent
from cases.notifications import format_deadline, is_silenced, notify_staff, silenced
from cases.staff_recipients import (
    clerks,
    department_staff,
    escalation_staff,
    extension_requester,
    handling_staff,
    intake_side,
    latest_extension,
    lead_department_id,
    supervisors,
    union,
)
from cases.staff_texts import BAD_REVIEW_STAGES, ESCALATION_REASONS, SYSTEM_NAME
from portal.db import db
from portal.models import User

log = logging.getLogger(__name__)

Recipients = Callable[[Case, CaseEvent, int | None], list[User]]


@dataclass(frozen=True)
class Alert:
    """The staff event a timeline action is told as, and who hears it."""

    event: str
    recipients: Recipients


def _lead_department(case: Case, _line: CaseEvent, actor: int | None) -> list[User]:
    return department_staff(lead_department_id(case), actor)


def _handler(case: Case, _line: CaseEvent, actor: int | None) -> list[User]:
    return handling_staff(case, actor)


def _supervisors(_case: Case, _line: CaseEvent, actor: int | None) -> list[User]:
    return [u for u in supervisors() if u.id != actor]


def _requester(case: Case, _line: CaseEvent, actor: int | None) -> list[User]:
    return extension_requester(case, actor)


def _escalation(case: Case, _line: CaseEvent, actor: int | None) -> list[User]:
    return escalation_staff(case, actor)


def _intake(case: Case, _line: CaseEvent, actor: int | None) -> list[User]:
    return intake_side(case, actor)


def _assisting(case: Case, line: CaseEvent, actor: int | None) -> list[User]:
    """The staff of the departments asked to assist in this step."""
    seen: dict[int, User] = {}
    for department_id in assisting_departments(case, line):
        for user in department_staff(department_id, actor):
            seen.setdefault(user.id, user)
    return list(seen.values())


def _review_department(case: Case, line: CaseEvent, actor: int | None) -> list[User]:
    """A 差评's department (its ``details``), or the service centre's clerks for an answer
    given at intake (no department); the supervisors when nobody works there."""
    department_id = (line.details or {}).get("department")
    if isinstance(department_id, int):
        return department_staff(department_id, actor)
    return [u for u in clerks() if u.id != actor] or _supervisors(case, line, actor)


def _review_side(case: Case, line: CaseEvent, actor: int | None) -> list[User]:
    """A 差评 goes to its department and to the supervisors at once."""
    return union(_review_department(case, line, actor), supervisors(), exclude=actor)


ALERTS: dict[str, Alert] = {
    "dispatch": Alert("dispatched", _lead_department),
    "route": Alert("dispatched", _lead_department),
    "transfer": Alert("transferred", _lead_department),
    "assist": Alert("assisting", _assisting),
    "urge": Alert("urged", _handler),
    "supervise": Alert("supervised", _handler),
    "extension": Alert("extension_requested", _supervisors),
    "extension_approved": Alert("extension_approved", _requester),
    "extension_refused": Alert("extension_refused", _requester),
    "escalate": Alert("escalated", _escalation),
    "return": Alert("returned", _intake),
    "reply": Alert("replied", _intake),
    "redo": Alert("sent_back", _handler),
    "due_soon": Alert("due_soon", _handler),
    "overdue": Alert("overdue", _handler),
    # The 差评 loop (cases.satisfaction.bad_reviews); the line's details name the review's
    # department (none: answered at intake), its stars and deadline.
    "bad_review": Alert("bad_review_received", _review_side),
    "bad_review_overdue": Alert("bad_review_overdue", _review_side),
    "bad_review_rectify": Alert("bad_review_rectify", _review_department),
    "bad_review_appealed": Alert("bad_review_appeal", _supervisors),
    "appeal_upheld": Alert("bad_review_set_aside", _review_department),
    "appeal_rejected": Alert("bad_review_appeal_refused", _review_department),
}


def assisting_departments(case: Case, line: CaseEvent) -> list[int]:
    """The departments added by an ``assist`` line: its details, else the rows just added.

    Read before anything is flushed (the first query flushes the new rows).
    """
    details = line.details or {}
    ids = details.get("departments") or details.get("department_ids")
    if isinstance(ids, list) and all(isinstance(i, int) for i in ids):
        return ids
    return [
        a.department.id if a.department is not None else a.department_id
        for a in list(db.session.new)
        if isinstance(a, CaseAssist) and (a.case is case or a.case_id == case.id)
    ]


# Writing history tells nobody (``cases.notifications.silenced``); the old name stays.
quiet = silenced


def alert_staff(case: Case, line: CaseEvent) -> None:
    """Tell the staff who must act on the step ``line`` records (if the step concerns
    anyone); flushes, never commits."""
    alert = ALERTS.get(line.action)
    if alert is None or is_silenced():
        return
    actor = line.actor
    actor_id = actor.id if actor is not None else None
    recipients = alert.recipients(case, line, actor_id)
    values = {"actor_name": actor.display_name if actor is not None else ""}
    note = line.note
    if line.action == "escalate":
        note = (line.details or {}).get("reason") or note
    if line.action in ("dispatch", "route"):
        note = None  # the line's note defaults to the department's name
    if line.action == "reply":
        values["reply"] = note or ""  # the reply row is written after the line
    extension = None
    if line.action == "extension":
        extension = latest_extension(case, decided=False)
    elif line.action.startswith("extension_"):
        extension = latest_extension(case, decided=True)
    if extension is not None:
        values["days"] = str(extension.working_days)
    details = line.details or {}
    if line.action.startswith(("bad_review", "appeal_")):
        values.update(_review_values(details))

    def localised(locale: str) -> dict[str, str]:
        extra = {}
        if actor is None:
            extra["actor_name"] = SYSTEM_NAME[locale]
        if line.action == "escalate":
            extra["note"] = ESCALATION_REASONS[locale].get(note or "", note or "")
        if line.action == "bad_review_overdue":
            stage = str(details.get("stage") or "")
            extra["stage"] = BAD_REVIEW_STAGES[locale].get(stage, stage)
        return extra

    notify_staff(case, alert.event, recipients, note, values, localised)


def _review_values(details: dict) -> dict[str, str]:
    """``{level}`` (★2) and ``{review_due}`` of a 差评 line, from its details."""
    values = {"level": "", "review_due": "—"}
    level = details.get("level")
    if isinstance(level, int):
        values["level"] = "★" + str(level)
    due = details.get("due")
    if isinstance(due, str):
        with suppress(ValueError):  # an unreadable stored date: the message says "—"
            values["review_due"] = format_deadline(datetime.fromisoformat(due))
    return values
