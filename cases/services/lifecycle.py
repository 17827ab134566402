"""The life cycle: each step moves the case from one state to the next (``TRANSITIONS``)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from cases import deadlines
from cases.actors import Actor, Who, user_of
from cases.models import Case, CaseReply, CaseStatus
from cases.notifications import notify_case_event
from cases.services.records import _add_assists
from cases.services.rules import TransitionRefused, _check, _move, record_event
from portal.db import db, utcnow
from portal.models import Department


def accept_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """受理: the service centre takes the request on."""
    _move(case, _check(case, "accept", actor, note), actor, note)
    db.session.flush()
    notify_case_event(case, "accept")
    return case


def not_accept_case(case: Case, actor: Who, reason: str) -> Case:
    """不予受理: refused at intake, with the reason the client reads."""
    _move(case, _check(case, "not_accept", actor, reason), actor, reason)
    case.closed_at = utcnow()
    deadlines.stop_clock(case)
    db.session.flush()
    notify_case_event(case, "not_accept")
    return case


def answer_at_intake(case: Case, actor: Who, body: str) -> CaseReply:
    """直接答复: the clerk answers without dispatching."""
    _move(case, _check(case, "answer", actor, body), actor, body)
    return _publish_reply(case, actor, body)


def _dispatch_to(
    case: Case, department: Department, actor: Who, action: str, note: str | None = None
) -> None:
    now = utcnow()
    source = case.status
    if case.department_id != department.id:
        case.departments_passed += 1
    case.department = department
    case.assignee_id = None
    case.status = CaseStatus.DISPATCHED
    if case.dispatched_at is None:
        case.dispatched_at = now
    deadlines.start_sign_clock(case, now)
    record_event(
        case, actor, action, source, CaseStatus.DISPATCHED,
        note.strip() if note and note.strip() else None,
        details={"department": department.id},
    )
    if action in ("dispatch", "route"):  # the client hears once who handles it, not of transfers
        db.session.flush()
        notify_case_event(case, "dispatch")


def dispatch_case(
    case: Case,
    actor: Who,
    department: Department | None,
    assisting: list[Department] | None = None,
    note: str | None = None,
) -> Case:
    """派单: send the case to a lead department, optionally with assisting ones."""
    _check(case, "dispatch", actor, note)
    if department is None or not department.is_active:
        raise TransitionRefused(_("Choose the department to dispatch to."), field="department")
    _dispatch_to(case, department, actor, "dispatch", note)
    if assisting:
        _add_assists(case, actor, [d for d in assisting if d.id != department.id])
    db.session.flush()
    return case


def transfer_case(case: Case, actor: Who, department: Department | None, reason: str) -> Case:
    """转办: the service centre moves the case to another lead department."""
    _check(case, "transfer", actor, reason)
    if department is None or not department.is_active:
        raise TransitionRefused(_("Choose the department to transfer to."), field="department")
    if department.id == case.department_id:
        raise TransitionRefused(_("The case is already with that department."), field="department")
    _dispatch_to(case, department, actor, "transfer", reason)
    db.session.flush()
    return case


def sign_for_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """签收: the lead department acknowledges the case; the signer takes it on."""
    _move(case, _check(case, "sign_for", actor, note), actor, note)
    case.signed_at = utcnow()
    if case.assignee_id is None:
        case.assignee_id = Actor.of(actor).user_id
    deadlines.start_reply_clock(case)
    db.session.flush()
    return case


def return_case(case: Case, actor: Who, reason: str) -> Case:
    """退单: not this department's; back to the service centre for dispatch."""
    _move(case, _check(case, "return", actor, reason), actor, reason)
    case.department_id = None
    case.assignee_id = None
    deadlines.stop_clock(case)
    db.session.flush()
    return case


def request_information(case: Case, actor: Who, question: str) -> Case:
    """待补充: ask the client for more; the clock pauses."""
    _move(case, _check(case, "request_info", actor, question), actor, question)
    deadlines.pause_clock(case, utcnow())
    db.session.flush()
    notify_case_event(case, "request_info")
    return case


def resume_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """Back to handling; the reply deadline moves by the paused working time."""
    _move(case, _check(case, "resume", actor, note), actor, note)
    deadlines.resume_clock(case, utcnow())
    db.session.flush()
    return case


def reply_to_case(case: Case, actor: Who, body: str) -> CaseReply:
    """答复: the lead department's public answer."""
    _move(case, _check(case, "reply", actor, body), actor, body)
    return _publish_reply(case, actor, body)


def _publish_reply(case: Case, actor: Who, body: str) -> CaseReply:
    case.replied_at = utcnow()
    deadlines.stop_clock(case)
    reply = CaseReply(case=case, author=user_of(actor), body=body.strip(), is_public=True)
    db.session.add(reply)
    db.session.flush()
    # Asked before the client is told, so the message carries the rating link. Imported
    # here: satisfaction builds on these services (record_event), not the other way round.
    from cases.satisfaction.services import ask_for_rating

    ask_for_rating(case, reply, actor)
    _tell_client_and_duplicates(case, "reply", reply.body)
    return reply


def _tell_client_and_duplicates(case: Case, event: str, note: str | None = None) -> None:
    """The client hears of the outcome, and so do the clients of merged duplicates."""
    notify_case_event(case, event)
    for duplicate in db.session.scalars(select(Case).where(Case.merged_into_id == case.id)):
        notify_case_event(duplicate, event, note)


def withdraw_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """撤回: the client no longer needs an answer; ``note`` is their reason (staff read it).

    The case page asks the client to confirm and for the reason before it calls this.
    """
    _move(case, _check(case, "withdraw", actor, note), actor, note)
    case.closed_at = utcnow()
    deadlines.stop_clock(case)
    db.session.flush()
    return case


def close_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """办结."""
    _move(case, _check(case, "close", actor, note), actor, note)
    case.closed_at = utcnow()
    db.session.flush()
    _tell_client_and_duplicates(case, "close", note)
    return case


def send_back_to_redo(case: Case, actor: Who, reason: str) -> Case:
    """发回重办: the reply was not good enough; the department handles it again."""
    transition = _check(case, "redo", actor, reason)
    if case.department_id is None:
        raise TransitionRefused(
            _("This case was answered at intake; reopen it or answer it again."), field="note"
        )
    _move(case, transition, actor, reason)
    case.redo_count += 1
    deadlines.restart_reply_clock(case, utcnow())
    db.session.flush()
    return case


def reopen_case(case: Case, actor: Who, reason: str) -> Case:
    """Reopen a closed case; it goes back to the service centre for dispatch."""
    _move(case, _check(case, "reopen", actor, reason), actor, reason)
    case.closed_at = None
    case.department_id = None
    case.assignee_id = None
    deadlines.stop_clock(case)
    db.session.flush()
    return case


def merge_case(case: Case, actor: Who, master: Case | None, note: str | None = None) -> Case:
    """合并: the case asks the same as ``master``; it closes and follows the master's answer.

    Both timelines record it; the duplicate's client reads the master's public replies
    on their own case (and is told of its outcome).
    """
    transition = _check(case, "merge", actor, note)
    if master is None:
        raise TransitionRefused(
            _("Choose the master case by its tracking number."), field="target"
        )
    if master.id == case.id or master.merged_into_id is not None:
        raise TransitionRefused(
            _("A case cannot be merged into itself or into a merged case."), field="target"
        )
    if master.status in (CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN, CaseStatus.MERGED):
        raise TransitionRefused(
            _("The master case must be one that is being answered."), field="target"
        )
    source = case.status
    case.status = transition.target
    case.merged_into_id = master.id
    case.closed_at = utcnow()
    deadlines.stop_clock(case)
    record_event(case, actor, "merge", source, CaseStatus.MERGED, note.strip() if note else None,
                 details={"master": master.number})
    record_event(master, actor, "merged_from", None, None, None, is_public=False,
                 details={"duplicate": case.number})
    db.session.flush()
    return case

