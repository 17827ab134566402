"""What every step shares: who may take it now, the checks it runs, the line it writes.

A step is refused (``TransitionRefused``) before it changes anything; a step that passes
``touch``es the case, so its UPDATE checks and bumps the case's version.
"""

from __future__ import annotations

from flask_babel import gettext as _

from cases.actors import Actor, Who, user_of
from cases.models import Case, CaseEvent, CaseStatus, ExtensionStatus
from cases.staff_alerts import alert_staff
from cases.visibility import can_view_case, in_scope, is_assisting
from cases.workflow import RECORDS, TRANSITIONS, Transition, transitions_from
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import Role, User


class TransitionRefused(DomainError):
    """A step the case's state or the user's role does not allow; nothing changed."""



# --- events --------------------------------------------------------------------


def record_event(
    case: Case,
    actor: Who,
    action: str,
    from_status: CaseStatus | None,
    to_status: CaseStatus | None,
    note: str | None = None,
    is_public: bool = True,
    details: dict | None = None,
) -> CaseEvent:
    """One timeline line; ``actor`` says who acted (a User goes by their role, None = system).

    ``details`` holds what changed as data (ids, enum values), rendered in the reader's
    language by the case page; ``note`` is only what a person wrote. The staff who must
    act on the step are told here (``cases.staff_alerts``), whichever path took it.
    """
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
        details=details,
    )
    db.session.add(event)
    alert_staff(case, event)
    return event



# --- who may do what ----------------------------------------------------------


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



def _check_record(case: Case, actor: Who, action: str) -> User:
    """The person taking a record step (these are never the system's); refuses otherwise."""
    user = user_of(actor)
    if user is None or not may_record(user, case, action):
        raise TransitionRefused(_("You may not do this to this case now."))
    touch(case)
    return user

