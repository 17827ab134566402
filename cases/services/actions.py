"""One door for the case page: ``perform`` runs the named step with the form's input."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _

from cases.actors import Actor, Who
from cases.models import Case, CaseType, Category, Priority
from cases.services.lifecycle import (
    accept_case,
    answer_at_intake,
    close_case,
    dispatch_case,
    merge_case,
    not_accept_case,
    reopen_case,
    reply_to_case,
    request_information,
    resume_case,
    return_case,
    send_back_to_redo,
    sign_for_case,
    transfer_case,
    withdraw_case,
)
from cases.services.records import (
    add_assisting_departments,
    add_internal_note,
    claim_case,
    classify_case,
    decide_extension,
    link_cases,
    request_extension,
    supervise_case,
    urge_case,
)
from cases.services.rules import TransitionRefused
from portal.models import Department

log = logging.getLogger(__name__)


@dataclass
class ActionInput:
    """What the case page's action forms can send."""

    note: str | None = None
    department: Department | None = None
    assisting: list[Department] | None = None
    days: int | None = None
    approve: bool | None = None
    case_type: CaseType | None = None
    category: Category | None = None
    priority: Priority | None = None
    target: Case | None = None


def perform(case: Case, action: str, actor: Who, data: ActionInput) -> None:
    """Run the named step with the form's input (the views' single door)."""
    note = data.note
    steps = {
        "accept": lambda: accept_case(case, actor, note),
        "not_accept": lambda: not_accept_case(case, actor, note or ""),
        "answer": lambda: answer_at_intake(case, actor, note or ""),
        "dispatch": lambda: dispatch_case(case, actor, data.department, data.assisting, note),
        "transfer": lambda: transfer_case(case, actor, data.department, note or ""),
        "sign_for": lambda: sign_for_case(case, actor, note),
        "return": lambda: return_case(case, actor, note or ""),
        "request_info": lambda: request_information(case, actor, note or ""),
        "resume": lambda: resume_case(case, actor, note),
        "reply": lambda: reply_to_case(case, actor, note or ""),
        "withdraw": lambda: withdraw_case(case, actor, note),
        "close": lambda: close_case(case, actor, note),
        "redo": lambda: send_back_to_redo(case, actor, note or ""),
        "reopen": lambda: reopen_case(case, actor, note or ""),
        "merge": lambda: merge_case(case, actor, data.target, note),
        "link": lambda: link_cases(case, actor, data.target),
        "claim": lambda: claim_case(case, actor),
        "classify": lambda: classify_case(case, actor, data.case_type, data.category,
                                          data.priority),
        "assist": lambda: add_assisting_departments(case, actor, data.assisting or []),
        "urge": lambda: urge_case(case, actor, note),
        "supervise": lambda: supervise_case(case, actor, note),
        "note": lambda: add_internal_note(case, actor, note or ""),
        "extension": lambda: request_extension(case, actor, data.days or 0, note or ""),
        "decide_extension": lambda: decide_extension(case, actor, bool(data.approve), note),
    }
    step = steps.get(action)
    if step is None:
        raise TransitionRefused(_("Unknown action."))
    step()
    who = Actor.of(actor)
    log.info("case %s: %s by %s %s", case.number, action, who.kind, who.user_id)
