"""The deadline sweep: mark cases due soon and overdue, escalate the ones that need it;
then satisfaction's pass (``cases.satisfaction.sweep``: rating reminders, default ratings,
差评 deadlines), the hot-spot early warning (``cases.reports.hotspot_alerts``) and the public
statistics page's stored figures (``cases.reports.stats_store``, when due).

Run by ``flask cases sweep`` (once, or ``--every N`` seconds as a scheduler process).
Idempotent and safe from several processes at once: every mark is a conditional UPDATE
(``... WHERE due_state <> 'overdue'``), and the timeline event is written only by the
transaction whose UPDATE changed the row, so a case is never marked or escalated twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import and_, or_, select, update

from cases.models import Case, DueState
from cases.queries import OPEN_STATUSES
from cases.services.rules import record_event
from portal.changes import record_change
from portal.db import db, utcnow

if TYPE_CHECKING:
    from cases.satisfaction.sweep import SatisfactionSweep

log = logging.getLogger(__name__)

ESCALATE_AFTER_REDOS = 3
ESCALATE_AFTER_DEPARTMENTS = 3


@dataclass
class SweepResult:
    due_soon: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    satisfaction: SatisfactionSweep | None = None  # reminders, default ratings, 差评 deadlines
    hotspot_alerts: int = 0  # new hot-spot alerts raised

    def summary(self) -> str:
        text = (
            f"due soon: {len(self.due_soon)}, overdue: {len(self.overdue)}, "
            f"escalated: {len(self.escalated)}"
        )
        text = f"{text}; {self.satisfaction.summary()}" if self.satisfaction else text
        return f"{text}; hot-spot alerts: {self.hotspot_alerts}"


def _mark(case_id: int, condition, values: dict) -> bool:
    """Apply ``values`` to the case only if ``condition`` still holds; True if it did."""
    changed = db.session.execute(
        update(Case)
        .where(Case.id == case_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed == 1:  # the UPDATE bypasses the unit of work: tell the change feed
        record_change("case", case_id)
    return changed == 1


def _event(case_id: int, action: str, details: dict | None = None) -> None:
    """The sweep's timeline line: the system acted, no person. Through ``record_event``,
    so the staff who must act are told (``cases.staff_alerts``)."""
    case = db.session.get(Case, case_id)
    if case is not None:
        db.session.refresh(case)  # the conditional UPDATE bypassed the loaded row
        record_event(case, None, action, None, None, None, is_public=False, details=details)


def near(now: datetime):
    """The running deadline counts as near: ``due_soon_at <= now`` (set with ``due_at`` by
    ``cases.deadlines``); rows without it, ``DUE_SOON_HOURS`` before ``due_at``."""
    soon = now + timedelta(hours=current_app.config["DUE_SOON_HOURS"])
    return or_(
        Case.due_soon_at <= now,
        and_(Case.due_soon_at.is_(None), Case.due_at < soon),
    )


def escalation_reason(case: Case) -> str | None:
    if case.due_state == DueState.OVERDUE:
        return "overdue"
    if case.redo_count >= ESCALATE_AFTER_REDOS:
        return "redone"
    if case.departments_passed >= ESCALATE_AFTER_DEPARTMENTS:
        return "departments"
    return None


def sweep_deadlines(now: datetime | None = None, batch: int = 500) -> SweepResult:
    """One pass over open cases; commits after each batch so a crash loses little."""
    now = now or utcnow()
    result = SweepResult()

    is_due_soon = and_(Case.due_state == DueState.ON_TIME, near(now), Case.due_at > now)
    due_soon = select(Case.id, Case.number).where(is_due_soon)
    for case_id, number in db.session.execute(due_soon.limit(batch)).all():
        if _mark(case_id, is_due_soon, {"due_state": DueState.DUE_SOON}):
            _event(case_id, "due_soon")
            result.due_soon.append(number)
    db.session.commit()

    overdue = select(Case.id, Case.number).where(
        Case.due_at < now, Case.due_state != DueState.OVERDUE
    )
    for case_id, number in db.session.execute(overdue.limit(batch)).all():
        if _mark(case_id, and_(Case.due_state != DueState.OVERDUE, Case.due_at < now),
                 {"due_state": DueState.OVERDUE}):
            _event(case_id, "overdue")
            result.overdue.append(number)
    db.session.commit()

    candidates = select(Case).where(
        Case.status.in_(OPEN_STATUSES),
        Case.escalated_at.is_(None),
        or_(
            and_(Case.due_state == DueState.OVERDUE, Case.due_at.is_not(None)),
            Case.redo_count >= ESCALATE_AFTER_REDOS,
            Case.departments_passed >= ESCALATE_AFTER_DEPARTMENTS,
        ),
    )
    for case in db.session.scalars(candidates.limit(batch)).all():
        reason = escalation_reason(case)
        if reason and _mark(
            case.id,
            Case.escalated_at.is_(None),
            {"escalated_at": now, "escalation_reason": reason, "supervised": True},
        ):
            _event(case.id, "escalate", {"reason": reason})
            result.escalated.append(case.number)
    db.session.commit()

    # Imported here: satisfaction builds on the cases room, not the other way round.
    from cases.satisfaction.sweep import sweep_ratings

    result.satisfaction = sweep_ratings(now)

    # Imported here too: the figures build on the cases room. Idempotent (one alert per
    # district, category and window, whichever process writes it first).
    from cases.reports.hotspot_alerts import detect_spikes

    result.hotspot_alerts = len(detect_spikes(now))
    db.session.commit()

    # The public statistics page's stored figures, once older than half their interval
    # (so no visitor's request computes them; one process at a time).
    from cases.reports.stats_store import sweep_public_stats

    sweep_public_stats()

    # History imports a dead process left queued or running (usually none: one query).
    from cases.imports.runner import pick_up_pending

    pick_up_pending()

    # Smart intake retrains on its schedule (logs its own errors, never raises).
    from cases.smart_intake.store import retrain_if_due

    retrain_if_due(now)
    db.session.commit()
    log.info("sweep: %s", result.summary())
    return result
