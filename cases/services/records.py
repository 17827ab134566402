"""Steps that record without changing the state: claim, classify, assist, link, urge,
supervise, internal notes and extensions (``RECORDS``)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from cases import deadlines
from cases.actors import Who
from cases.models import (
    Case,
    CaseAssist,
    CaseLink,
    CaseReply,
    CaseType,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Priority,
)
from cases.services.catalogue import leaf_categories
from cases.services.rules import TransitionRefused, _check_record, record_event
from portal.changes import record_change
from portal.db import db, utcnow
from portal.models import Department


def claim_case(case: Case, actor: Who) -> Case:
    """Take the case as its handler. Two people clicking at once: exactly one wins.

    The assignee is set by a conditional UPDATE (only while nobody holds it), which the
    database serialises, so the loser sees zero rows changed and is told so.
    """
    user = _check_record(case, actor, "claim")
    # Imported here: the reports build on the cases room. Their daily flows follow the
    # unit of work; this Core UPDATE is recounted around it.
    from cases.reports.flows import recounted

    with recounted([case.id]):
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
    record_event(case, actor, "claim", None, None, None, is_public=False)  # the actor says who
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
    # What changed, as data: the case page words it in each reader's language.
    changes: dict[str, list] = {}
    if case_type is not None and case_type != case.type:
        changes["type"] = [case.type.value, case_type.value]
        case.type = case_type
    if category is not None and category.id != case.category_id:
        changes["category"] = [case.category_id, category.id]
        case.category = category
    if priority is not None and priority != case.priority:
        changes["priority"] = [case.priority.value, priority.value]
        case.priority = priority
    if not changes:
        raise TransitionRefused(_("Nothing was changed."))
    record_event(case, actor, "classify", None, None, None, is_public=False, details=changes)
    db.session.flush()
    return case


def _add_assists(case: Case, actor: Who, departments: list[Department]) -> None:
    present = {a.department_id for a in case.assists}
    added = [d for d in departments if d.id not in present and d.id != case.department_id]
    for department in added:
        db.session.add(CaseAssist(case=case, department=department))
    if added:
        record_event(case, actor, "assist", None, None, None, is_public=False,
                     details={"departments": [d.id for d in added]})


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
    record_event(case, actor, "link", None, None, None, is_public=False,
                 details={"case": other.number})
    record_event(other, actor, "link", None, None, None, is_public=False,
                 details={"case": case.number})
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
    record_event(case, actor, "extension", None, None, reason.strip(), is_public=False,
                 details={"days": working_days})
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
    record_event(case, actor, action, None, None, note.strip() if note else None,
                 is_public=False, details={"days": pending.working_days})
    db.session.flush()
    return pending

