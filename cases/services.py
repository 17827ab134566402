"""Business rules for cases: filing, numbering, routing, the life cycle and its records.

Each public function is one step a person takes: it checks that this user may take
it now, changes the case, and writes the timeline event. Services flush, never commit:
the request (or command) that called them commits once, so every step is one
transaction, and a refusal (``TransitionRefused``) leaves nothing behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cases import deadlines
from cases.actors import Actor, Who, user_of
from cases.models import (
    Case,
    CaseAssist,
    CaseEvent,
    CaseLink,
    CaseNumberCounter,
    CaseReply,
    CaseStatus,
    CaseType,
    Category,
    Channel,
    ExtensionRequest,
    ExtensionStatus,
    Priority,
    RoutingRule,
)
from cases.tracking import issue_tracking_code
from cases.visibility import can_view_case, in_scope, is_assisting
from cases.workflow import RECORDS, TRANSITIONS, Transition, transitions_from
from citizens.models import Client, ContactChannel, ContactLog
from portal.changes import record_change
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Department, District, Role, User
from portal.notifications.services import notify_case_event

log = logging.getLogger(__name__)


CONTACT_CHANNELS = {
    Channel.WEB: ContactChannel.WEB,
    Channel.MOBILE: ContactChannel.WEB,
    Channel.PHONE: ContactChannel.PHONE,
    Channel.WALK_IN: ContactChannel.WALK_IN,
    Channel.LETTER: ContactChannel.LETTER,
    Channel.EMAIL: ContactChannel.EMAIL,
}


class TransitionRefused(DomainError):
    """A step the case's state or the user's role does not allow; nothing changed."""


@dataclass(frozen=True)
class CaseRequest:
    """What a client asks: the fields of the filing form, already validated."""

    type: CaseType
    category_id: int
    title: str
    description: str
    district_id: int
    channel: Channel = Channel.WEB
    priority: Priority = Priority.NORMAL
    anonymous: bool = False


def local_now() -> datetime:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


# --- numbers, catalogue, routing -------------------------------------------------


def next_case_number(year: int) -> str:
    """Hand out the next tracking number of ``year`` (``2026-000123``), atomically.

    The counter row is bumped with one UPDATE ... RETURNING, so two processes
    filing at once never get the same number.
    """
    bump = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.year == year)
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)
        .execution_options(synchronize_session=False)
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseNumberCounter(year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created this year's row first
        value = db.session.execute(bump).scalar_one()
    return f"{year}-{value:06d}"


def leaf_categories() -> list[Category]:
    """Active categories that have no active children: what a case is filed under."""
    parents = select(Category.parent_id).where(
        Category.parent_id.is_not(None), Category.is_active.is_(True)
    )
    stmt = (
        select(Category)
        .where(Category.is_active.is_(True), Category.id.not_in(parents))
        .options(selectinload(Category.parent))
        .order_by(Category.parent_id, Category.position, Category.id)
    )
    return list(db.session.scalars(stmt))


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.position, District.id)))


def active_departments() -> list[Department]:
    stmt = select(Department).where(Department.is_active.is_(True)).order_by(Department.code)
    return list(db.session.scalars(stmt))


def route_department(category_id: int, district_id: int | None) -> Department | None:
    """The department a routing rule sends this category (and district) to, if any.

    A rule naming the district wins over a category-wide one; then the lowest position.
    """
    stmt = (
        select(RoutingRule)
        .join(Department, RoutingRule.department_id == Department.id)
        .where(
            RoutingRule.category_id == category_id,
            RoutingRule.is_active.is_(True),
            Department.is_active.is_(True),
            (RoutingRule.district_id == district_id) | RoutingRule.district_id.is_(None),
        )
        .order_by(sql_case((RoutingRule.district_id.is_(None), 1), else_=0), RoutingRule.position)
        .limit(1)
    )
    rule = db.session.scalar(stmt)
    return rule.department if rule else None


# --- filing -----------------------------------------------------------------------


def file_case(client: Client, filed_by: Who, request: CaseRequest) -> Case:
    """Record a new case; dispatch it at once when a routing rule matches.

    The filing step of ``cases.filing.file_request`` (the door every channel uses).
    """
    category = db.session.get(Category, request.category_id)
    if category is None or not category.is_active:
        raise DomainError(_("Choose a category from the list."), field="category")
    if db.session.get(District, request.district_id) is None:
        raise DomainError(_("Choose a district from the list."), field="district")
    case = Case(
        number=next_case_number(local_now().year),
        type=request.type,
        channel=request.channel,
        priority=request.priority,
        status=CaseStatus.SUBMITTED,
        title=request.title.strip(),
        description=request.description.strip(),
        category=category,
        district_id=request.district_id,
        client_id=client.id,
        filed_by_id=Actor.of(filed_by).user_id,
        anonymous=request.anonymous and request.type == CaseType.TIPOFF,
    )
    if client.vulnerable and case.priority.rank < Priority.HIGH.rank:
        case.priority = Priority.HIGH  # vulnerable groups are handled with priority
    case.issued_tracking_code = issue_tracking_code(case)  # shown once, never stored plain
    db.session.add(case)
    db.session.flush()
    record_event(case, filed_by, "file", None, CaseStatus.SUBMITTED)
    record_filing_contact(client, case, filed_by)
    department = route_department(category.id, request.district_id)
    if department is not None:
        _dispatch_to(case, department, None, "route")
    log.info("case %s filed by user %s", case.number, Actor.of(filed_by).user_id)
    return case


def record_filing_contact(client: Client, case: Case, filed_by: Who) -> None:
    """A filing is a contact: counted for engagement and written to the contact log."""
    db.session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(case_count=Client.case_count + 1)
        .execution_options(synchronize_session=False)
    )
    record_change("client", client.id)  # the counter bypasses the unit of work
    who = Actor.of(filed_by)
    staff = who.user if who.kind == "staff" else None
    db.session.add(
        ContactLog(
            client_id=client.id,
            channel=CONTACT_CHANNELS.get(case.channel, ContactChannel.WEB),
            staff_id=staff.id if staff else None,
            case_id=case.id,
            summary=f"{case.number} {case.title}",
            automatic=True,
        )
    )


# --- events -----------------------------------------------------------------------


def record_event(
    case: Case,
    actor: Who,
    action: str,
    from_status: CaseStatus | None,
    to_status: CaseStatus | None,
    note: str | None = None,
    is_public: bool = True,
) -> CaseEvent:
    """One timeline line; ``actor`` says who acted (a User goes by their role, None = system)."""
    who = Actor.of(actor)
    event = CaseEvent(
        case=case,
        actor=who.user,
        actor_kind=who.kind,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        is_public=is_public,
    )
    db.session.add(event)
    return event


# --- who may do what --------------------------------------------------------------


def may_take(user: User, case: Case, transition: Transition) -> bool:
    return (
        case.status in transition.sources
        and user.role in transition.roles
        and in_scope(user, case, transition.scope)
    )


def allowed_transitions(case: Case, user: User) -> list[Transition]:
    """The transitions ``user`` may take on ``case`` now: what the case page offers."""
    if not can_view_case(user, case):
        return []
    return [t for t in transitions_from(case.status) if may_take(user, case, t)]


def may_record(user: User, case: Case, action: str) -> bool:
    """Whether ``user`` may take the non-transition ``action`` (claim, urge, ...) now."""
    roles, scope, _label = RECORDS[action]
    if user.role not in roles or not can_view_case(user, case):
        return False
    if scope != "any" and not in_scope(user, case, scope):
        return False
    if action == "claim":
        if case.assignee_id is not None or not case.is_open:
            return False
        if case.status in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED):
            return in_scope(user, case, "intake")
        return in_scope(user, case, "department")
    if action == "note":
        return (
            in_scope(user, case, "any")
            or user.role == Role.OFFICIAL
            or is_assisting(user, case)
        )
    if action == "classify":
        return case.status in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED)
    if action in ("assist", "urge"):
        return case.status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)
    if action == "supervise":
        return case.is_open and not case.supervised
    if action == "extension":
        return case.status in (CaseStatus.IN_PROGRESS, CaseStatus.WAITING) and not any(
            r.status == ExtensionStatus.PENDING for r in case.extension_requests
        )
    if action == "decide_extension":
        return any(r.status == ExtensionStatus.PENDING for r in case.extension_requests)
    return True


def allowed_records(case: Case, user: User) -> list[str]:
    return [action for action in RECORDS if may_record(user, case, action)]


def _check(case: Case, action: str, actor: Who, note: str | None) -> Transition:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionRefused(_("Unknown action."))
    user = user_of(actor)
    # The system (a rule, not a person) is bound by the case's state only, not by a role.
    if not Actor.of(actor).is_system and (
        user is None
        or not can_view_case(user, case)
        or user.role not in transition.roles
        or not in_scope(user, case, transition.scope)
    ):
        raise TransitionRefused(_("You may not do this to this case."))
    if case.status not in transition.sources:
        raise TransitionRefused(
            _(
                "This case is %(status)s; it cannot be changed that way now.",
                status=case.status.label,
            )
        )
    if transition.needs_note and not (note and note.strip()):
        raise TransitionRefused(_("Write the reason or text first."), field="note")
    touch(case)
    return transition


def touch(case: Case) -> None:
    """Mark the case written by this step, so its UPDATE checks and bumps ``version``.

    Two steps that read the same version race to one UPDATE ... WHERE version = n; the
    loser's matches no row and SQLAlchemy raises StaleDataError, which the app answers
    with a 409 after rolling the loser's whole transaction back.
    """
    case.updated_at = utcnow()


def _move(case: Case, transition: Transition, actor: Who, note: str | None) -> None:
    source = case.status
    case.status = transition.target
    record_event(
        case, actor, transition.action, source, transition.target,
        note.strip() if note else None, transition.public,
    )


# --- the life cycle ---------------------------------------------------------------


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
    record_event(case, actor, action, source, CaseStatus.DISPATCHED, note or department.name_zh)
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
    _tell_client_and_duplicates(case, "reply", reply.body)
    return reply


def _tell_client_and_duplicates(case: Case, event: str, note: str | None = None) -> None:
    """The client hears of the outcome, and so do the clients of merged duplicates."""
    notify_case_event(case, event)
    for duplicate in db.session.scalars(select(Case).where(Case.merged_into_id == case.id)):
        notify_case_event(duplicate, event, note)


def withdraw_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """撤回: the client no longer needs an answer."""
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
    record_event(case, actor, "merge", source, CaseStatus.MERGED, master.number)
    record_event(master, actor, "merged_from", None, None, case.number, is_public=False)
    db.session.flush()
    return case


# --- records that do not change the state ----------------------------------------


def _check_record(case: Case, actor: Who, action: str) -> User:
    """The person taking a record step (these are never the system's); refuses otherwise."""
    user = user_of(actor)
    if user is None or not may_record(user, case, action):
        raise TransitionRefused(_("You may not do this to this case now."))
    touch(case)
    return user


def claim_case(case: Case, actor: Who) -> Case:
    """Take the case as its handler. Two people clicking at once: exactly one wins.

    The assignee is set by a conditional UPDATE (only while nobody holds it), which the
    database serialises, so the loser sees zero rows changed and is told so.
    """
    user = _check_record(case, actor, "claim")
    changed = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.assignee_id.is_(None))
        .values(assignee_id=user.id, updated_at=utcnow(), version=Case.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise TransitionRefused(_("Someone else has just claimed this case."))
    record_change("case", case.id)  # the conditional UPDATE bypasses the unit of work
    db.session.refresh(case)
    record_event(case, actor, "claim", None, None, user.display_name, is_public=False)
    db.session.flush()
    return case


def classify_case(
    case: Case,
    actor: Who,
    case_type: CaseType | None,
    category: Category | None,
    priority: Priority | None,
) -> Case:
    """Correct the type, category or priority at intake (before dispatch)."""
    _check_record(case, actor, "classify")
    if category is not None and (not category.is_active or category not in leaf_categories()):
        raise TransitionRefused(_("Choose a category from the list."), field="category")
    changes = []
    if case_type is not None and case_type != case.type:
        changes.append(f"{case.type.label} → {case_type.label}")
        case.type = case_type
    if category is not None and category.id != case.category_id:
        changes.append(f"{case.category.name} → {category.name}")
        case.category = category
    if priority is not None and priority != case.priority:
        changes.append(f"{case.priority.label} → {priority.label}")
        case.priority = priority
    if not changes:
        raise TransitionRefused(_("Nothing was changed."))
    record_event(case, actor, "classify", None, None, "; ".join(changes), is_public=False)
    db.session.flush()
    return case


def _add_assists(case: Case, actor: Who, departments: list[Department]) -> None:
    present = {a.department_id for a in case.assists}
    added = [d for d in departments if d.id not in present and d.id != case.department_id]
    for department in added:
        db.session.add(CaseAssist(case=case, department=department))
    if added:
        names = "、".join(d.name_zh for d in added)
        record_event(case, actor, "assist", None, None, names, is_public=False)


def add_assisting_departments(case: Case, actor: Who, departments: list[Department]) -> Case:
    """协办: other departments help the lead one; they see the case and may add notes."""
    _check_record(case, actor, "assist")
    if not departments:
        raise TransitionRefused(_("Choose at least one department."), field="assisting")
    _add_assists(case, actor, departments)
    db.session.flush()
    return case


def link_cases(case: Case, actor: Who, other: Case | None) -> Case:
    """Mark two cases as related (not duplicates): each page shows the other."""
    user = _check_record(case, actor, "link")
    if other is None or other.id == case.id:
        raise TransitionRefused(_("Give the tracking number of another case."), field="target")
    exists = db.session.get(CaseLink, (case.id, other.id))
    if exists is not None:
        raise TransitionRefused(_("These cases are already linked."), field="target")
    db.session.add_all(
        [
            CaseLink(case_id=case.id, related_id=other.id, created_by_id=user.id),
            CaseLink(case_id=other.id, related_id=case.id, created_by_id=user.id),
        ]
    )
    record_event(case, actor, "link", None, None, other.number, is_public=False)
    record_event(other, actor, "link", None, None, case.number, is_public=False)
    db.session.flush()
    return case


def urge_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """催办: remind the department; counted and shown to the handler."""
    _check_record(case, actor, "urge")
    case.urge_count += 1
    record_event(case, actor, "urge", None, None, note, is_public=False)
    db.session.flush()
    return case


def supervise_case(case: Case, actor: Who, note: str | None = None) -> Case:
    """督办: formal supervision by a supervisor."""
    _check_record(case, actor, "supervise")
    case.supervised = True
    record_event(case, actor, "supervise", None, None, note, is_public=False)
    db.session.flush()
    return case


def add_internal_note(case: Case, actor: Who, body: str) -> CaseReply:
    """A note only staff read (assisting departments give their opinion this way)."""
    user = _check_record(case, actor, "note")
    if not body or not body.strip():
        raise TransitionRefused(_("Write the note first."), field="note")
    note = CaseReply(case=case, author=user, body=body.strip(), is_public=False)
    db.session.add(note)
    record_event(case, actor, "note", None, None, None, is_public=False)
    db.session.flush()
    return note


MAX_EXTENSION_DAYS = 30


def request_extension(case: Case, actor: Who, working_days: int, reason: str) -> ExtensionRequest:
    """延期申请: the lead department asks for more working days."""
    user = _check_record(case, actor, "extension")
    if not 1 <= working_days <= MAX_EXTENSION_DAYS:
        raise TransitionRefused(
            _("Ask for 1 to %(n)d working days.", n=MAX_EXTENSION_DAYS), field="days"
        )
    if not reason or not reason.strip():
        raise TransitionRefused(_("Write the reason or text first."), field="note")
    extension = ExtensionRequest(
        case=case, requested_by=user, working_days=working_days, reason=reason.strip()
    )
    db.session.add(extension)
    record_event(case, actor, "extension", None, None, reason.strip(), is_public=False)
    db.session.flush()
    return extension


def decide_extension(case: Case, actor: Who, approve: bool, note: str | None = None):
    """A supervisor approves (the reply deadline moves) or refuses the pending request."""
    user = _check_record(case, actor, "decide_extension")
    pending = next(r for r in case.extension_requests if r.status == ExtensionStatus.PENDING)
    pending.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    pending.decided_by = user
    pending.decided_at = utcnow()
    pending.decision_note = note
    if approve:
        deadlines.extend_reply_deadline(case, pending.working_days)
    action = "extension_approved" if approve else "extension_refused"
    record_event(case, actor, action, None, None, note, is_public=False)
    db.session.flush()
    return pending


# --- one entry point for the case page --------------------------------------------


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
