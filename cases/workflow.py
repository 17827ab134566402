"""The case life cycle as data: every allowed transition, in one table.

A transition names the states it may start from, the state it leads to, the roles
that may take it and the *scope* in which they may: ``intake`` (citywide staff of the
service centre), ``department`` (staff of the lead department), ``owner`` (the client
who filed). Services look transitions up here; the case page offers only those the
current user may take now. docs/ARCHITECTURE.md draws this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from cases.models import CaseStatus as S
from portal.models import Role

INTAKE = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
DEPARTMENT = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
CLIENTS = frozenset({Role.CITIZEN, Role.ENTERPRISE})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})

HANDLING = frozenset({S.DISPATCHED, S.IN_PROGRESS})
AT_INTAKE = frozenset({S.SUBMITTED, S.ACCEPTED})
OPEN = frozenset({S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.WAITING})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[S]
    target: S
    roles: frozenset[Role]
    scope: str  # "intake", "department" or "owner"
    label: LazyString
    needs_note: bool = False  # a reason or reply text is required
    public: bool = True  # the client sees the event on the timeline


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, INTAKE, "intake", _l("Accept")),
        Transition(
            "not_accept", AT_INTAKE, S.NOT_ACCEPTED, INTAKE, "intake", _l("Do not accept"),
            needs_note=True,
        ),
        Transition(
            "answer", AT_INTAKE, S.REPLIED, INTAKE, "intake", _l("Answer at intake"),
            needs_note=True,
        ),
        Transition("dispatch", AT_INTAKE, S.DISPATCHED, INTAKE, "intake", _l("Dispatch")),
        Transition(
            "transfer", HANDLING, S.DISPATCHED, INTAKE, "intake", _l("Transfer"), needs_note=True
        ),
        Transition(
            "sign_for", frozenset({S.DISPATCHED}), S.IN_PROGRESS, DEPARTMENT, "department",
            _l("Sign for"),
        ),
        Transition(
            "return", HANDLING, S.ACCEPTED, DEPARTMENT, "department", _l("Return to dispatch"),
            needs_note=True,
        ),
        Transition(
            "request_info", frozenset({S.IN_PROGRESS}), S.WAITING, DEPARTMENT, "department",
            _l("Ask the client for information"), needs_note=True,
        ),
        Transition(
            "resume", frozenset({S.WAITING}), S.IN_PROGRESS, DEPARTMENT, "department",
            _l("Resume handling"),
        ),
        Transition(
            "reply", frozenset({S.IN_PROGRESS}), S.REPLIED, DEPARTMENT, "department",
            _l("Reply"), needs_note=True,
        ),
        Transition(
            "withdraw", OPEN, S.WITHDRAWN, CLIENTS, "owner", _l("Withdraw my request"),
        ),
        Transition("close", frozenset({S.REPLIED}), S.CLOSED, INTAKE, "intake", _l("Close")),
        Transition(
            "redo", frozenset({S.REPLIED}), S.IN_PROGRESS, INTAKE, "intake",
            _l("Send back to redo"), needs_note=True,
        ),
        Transition(
            "reopen", frozenset({S.CLOSED}), S.ACCEPTED, SUPERVISORS, "intake", _l("Reopen"),
            needs_note=True,
        ),
        Transition(
            "merge", OPEN, S.MERGED, INTAKE, "intake", _l("Merge into another case"),
        ),
    )
}

# Actions that record something on the case without changing its state.
RECORDS: dict[str, tuple[frozenset[Role], str, LazyString]] = {
    "claim": (INTAKE | DEPARTMENT, "any", _l("Claim")),
    "classify": (INTAKE, "intake", _l("Classify")),
    "assist": (INTAKE, "intake", _l("Add assisting departments")),
    "urge": (INTAKE, "intake", _l("Urge")),
    "supervise": (SUPERVISORS, "intake", _l("Supervise")),
    "note": (INTAKE | DEPARTMENT | frozenset({Role.OFFICIAL}), "any", _l("Internal note")),
    "extension": (DEPARTMENT, "department", _l("Request an extension")),
    "decide_extension": (SUPERVISORS, "intake", _l("Decide on the extension")),
    "link": (INTAKE | DEPARTMENT, "any", _l("Link a related case")),
}


def transitions_from(status: S) -> list[Transition]:
    """Every transition that may start in ``status``, whoever takes it."""
    return [t for t in TRANSITIONS.values() if status in t.sources]


# Why the sweep escalated a case (``cases.sweep.escalation_reason``), stored as
# ``details["reason"]`` of the "escalate" event.
ESCALATION_REASONS: dict[str, LazyString] = {
    "overdue": _l("Overdue"),
    "redone": _l("Sent back to redo too often"),
    "departments": _l("Passed through too many departments"),
}

EVENT_LABELS: dict[str, LazyString] = {
    "file": _l("Filed"),
    "route": _l("Dispatched by routing rule"),
    "auto_route": _l("Routed automatically by the intake suggestion"),
    "accept": _l("Accepted"),
    "not_accept": _l("Not accepted"),
    "answer": _l("Answered at intake"),
    "dispatch": _l("Dispatched"),
    "transfer": _l("Transferred"),
    "sign_for": _l("Signed for"),
    "return": _l("Returned to dispatch"),
    "request_info": _l("Asked the client for information"),
    "resume": _l("Handling resumed"),
    "reply": _l("Replied"),
    "withdraw": _l("Withdrawn by the client"),
    "close": _l("Closed"),
    "redo": _l("Sent back to redo"),
    "reopen": _l("Reopened"),
    "claim": _l("Claimed"),
    "classify": _l("Classified"),
    "assist": _l("Assisting departments added"),
    "urge": _l("Urged"),
    "supervise": _l("Put under supervision"),
    "note": _l("Internal note"),
    "extension": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
    "merge": _l("Merged into another case"),
    "merged_from": _l("A duplicate was merged into this case"),
    "link": _l("Linked to a related case"),
    "client_info": _l("Information added by the client"),
    "due_soon": _l("Deadline near"),
    "overdue": _l("Deadline passed"),
    "escalate": _l("Escalated"),
    # Satisfaction (cases.satisfaction): ratings and the bad-review (差评) loop.
    "rated": _l("Answer rated"),
    "rating_defaulted": _l("Default rating applied (no rating given)"),
    "follow_up_unreachable": _l("Follow-up call: client not reached"),
    "bad_review": _l("Bad review received"),
    "bad_review_verified": _l("Bad review verified by a call"),
    "bad_review_fixed": _l("Bad review: fixed at once"),
    "bad_review_rectify": _l("Bad review: to be rectified by a deadline"),
    "bad_review_explained": _l("Bad review: explained"),
    "bad_review_appealed": _l("Bad review: appeal lodged"),
    "appeal_upheld": _l("Appeal upheld: rating set aside"),
    "appeal_rejected": _l("Appeal refused: rating stands"),
    "bad_review_overdue": _l("Bad review: deadline passed"),
}


# Steps whose label already names the state they lead to ("Dispatched", "Closed"): the
# timeline does not add "→ <state>" to them. Others (reopen, redo) still say where to.
LABEL_SAYS_STATUS = frozenset(
    {"file", "route", "accept", "not_accept", "answer", "dispatch", "transfer", "sign_for",
     "return", "request_info", "resume", "reply", "withdraw", "close", "merge"}
)


def event_label(action: str) -> str:
    """How a timeline event reads, in the page's language."""
    label = EVENT_LABELS.get(action)
    return str(label) if label is not None else action
