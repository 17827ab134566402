"""The case life cycle as data: every allowed transition, in one table.

A transition names the states it may start from, the state it leads to and the
roles that may take it. Services look transitions up here; pages show only those
the current user may take. Later issues add rows (dispatch, sign for, return, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from cases.models import CaseStatus as S
from portal.models import Role

STAFF_WHO_ANSWER = frozenset(
    {Role.CLERK, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.ADMIN}
)
INTAKE_STAFF = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[S]
    target: S
    roles: frozenset[Role]
    label: LazyString
    needs_note: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "accept", frozenset({S.SUBMITTED}), S.ACCEPTED, INTAKE_STAFF, _l("Accept")
        ),
        Transition(
            "reply",
            frozenset({S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.SIGNED, S.IN_PROGRESS}),
            S.REPLIED,
            STAFF_WHO_ANSWER,
            _l("Reply"),
            needs_note=True,
        ),
        Transition("close", frozenset({S.REPLIED}), S.CLOSED, INTAKE_STAFF, _l("Close")),
    )
}


def transitions_from(status: S) -> list[Transition]:
    """Every transition that may start in ``status``, whoever takes it."""
    return [t for t in TRANSITIONS.values() if status in t.sources]


EVENT_LABELS: dict[str, LazyString] = {
    "file": _l("Filed"),
    "accept": _l("Accepted"),
    "reply": _l("Replied"),
    "close": _l("Closed"),
}


def event_label(action: str) -> str:
    """How a timeline event reads, in the page's language."""
    label = EVENT_LABELS.get(action)
    return str(label) if label is not None else action
