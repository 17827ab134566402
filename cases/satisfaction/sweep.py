"""The satisfaction part of the sweep: the one reminder, the default rating, 差评 deadlines.

Called by ``cases.sweep.sweep_deadlines`` (``flask cases sweep``). Like the deadline sweep
it is idempotent and safe from several processes at once: each step is a conditional
UPDATE (``... WHERE status = 'pending' AND reminded_at IS NULL``), and the message or the
timeline line is written only by the transaction whose UPDATE changed the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from cases.models import Case
from cases.notifications import notify_case_event
from cases.satisfaction.bad_reviews import sweep_bad_reviews
from cases.satisfaction.models import Rating
from cases.satisfaction.settings import current_settings
from cases.satisfaction.vocabulary import RatingSource, RatingStatus
from cases.services.rules import record_event
from portal.changes import record_change
from portal.db import db, utcnow

log = logging.getLogger(__name__)


@dataclass
class SatisfactionSweep:
    reminded: list[int] = field(default_factory=list)  # rating ids
    defaulted: list[int] = field(default_factory=list)
    unrated: list[int] = field(default_factory=list)
    bad_reviews: int = 0  # what ``sweep_bad_reviews`` reports (reviews marked overdue)

    def summary(self) -> str:
        return (
            f"rating reminders: {len(self.reminded)}, default ratings: {len(self.defaulted)}, "
            f"left unrated: {len(self.unrated)}, bad reviews overdue: {self.bad_reviews}"
        )


def _claim(rating_id: int, condition, values: dict) -> bool:
    """Apply ``values`` to the rating only if ``condition`` still holds; True if it did."""
    changed = db.session.execute(
        update(Rating)
        .where(Rating.id == rating_id, *condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1


def remind(now: datetime, batch: int = 500) -> list[int]:
    """The one reminder: a pending rating past ``remind_at`` that was never reminded."""
    due = (
        Rating.status == RatingStatus.PENDING,
        Rating.remind_at <= now,
        Rating.reminded_at.is_(None),
        # A reminder after the default moment would ask for what can no longer be given.
        (Rating.default_at.is_(None)) | (Rating.default_at > now),
    )
    reminded = []
    rows = db.session.execute(select(Rating.id, Rating.case_id).where(*due).limit(batch)).all()
    for rating_id, case_id in rows:
        if not _claim(rating_id, due, {"reminded_at": now, "updated_at": now}):
            continue  # another sweep reminded first
        case = db.session.get(Case, case_id)
        if case is not None:
            notify_case_event(case, "rating_reminder")
        reminded.append(rating_id)
    db.session.commit()
    return reminded


def apply_defaults(now: datetime, batch: int = 500) -> tuple[list[int], list[int]]:
    """No rating in time: the configured default level, or unrated for good (no default).

    Returns (defaulted, left unrated) rating ids.
    """
    level = current_settings().default_level
    due = (Rating.status == RatingStatus.PENDING, Rating.default_at <= now)
    if level is not None:
        values = {"status": RatingStatus.DEFAULTED, "level": level,
                  "source": RatingSource.DEFAULT, "rated_at": now, "updated_at": now}
    else:
        values = {"status": RatingStatus.UNRATED, "updated_at": now}
    defaulted, unrated = [], []
    rows = db.session.execute(select(Rating.id, Rating.case_id).where(*due).limit(batch)).all()
    for rating_id, case_id in rows:
        if not _claim(rating_id, due, values):
            continue  # rated meanwhile, or another sweep was first
        record_change("case", case_id)
        case = db.session.get(Case, case_id)
        if case is not None:
            db.session.refresh(case)
            record_event(
                case, None, "rating_defaulted", None, None, None, is_public=True,
                details={"rating": rating_id, "level": level},
            )
        (defaulted if level is not None else unrated).append(rating_id)
    db.session.commit()
    return defaulted, unrated


def sweep_ratings(now: datetime | None = None) -> SatisfactionSweep:
    """One pass: reminders, then defaults, then the 差评 deadlines (``bad_reviews``).

    Commits after each step, as the deadline sweep does.
    """
    now = now or utcnow()
    result = SatisfactionSweep()
    result.reminded = remind(now)
    result.defaulted, result.unrated = apply_defaults(now)
    overdue = sweep_bad_reviews(now)
    result.bad_reviews = len(overdue) if isinstance(overdue, list | tuple) else int(overdue or 0)
    db.session.commit()
    log.info("satisfaction sweep: %s", result.summary())
    return result
