"""The 差评 loop: a bad rating verified by a call, then fixed, rectified, explained or appealed.

``open_bad_review`` runs when a ★2 or ★1 rating arrives: the lead department (the service
centre for an answer at intake) and the supervisors are told at once, and the verification
deadline (``verify_working_days``) runs. Each later step is a function here, recorded with
who and why on the case's timeline; ``BadReview.version`` refuses a racing second click.
"""

from __future__ import annotations

from sqlalchemy import select

from cases.calendar import load_calendar
from cases.models import Case, TimeUnit
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.settings import current_settings
from cases.satisfaction.vocabulary import BadReviewStage
from cases.services.rules import record_event
from portal.db import db, utcnow


def open_bad_review(rating: Rating) -> BadReview:
    """A 差评 arrived: a review to verify within the configured working days."""
    now = utcnow()
    settings = current_settings()
    review = BadReview(
        rating_id=rating.id,
        case_id=rating.case_id,
        department_id=rating.department_id,
        stage=BadReviewStage.VERIFYING,
        due_at=load_calendar().add(now, settings.verify_working_days, TimeUnit.DAYS),
    )
    db.session.add(review)
    db.session.flush()
    case = db.session.get(Case, rating.case_id)
    # Told through the timeline's one door (cases.staff_alerts: department and supervisors).
    record_event(
        case, None, "bad_review", None, None, None, is_public=False,
        details={"rating": rating.id, "level": rating.level, "review": review.id,
                 "due": review.due_at.isoformat()},
    )
    return review


def note_rerating(rating: Rating) -> BadReview | None:
    """The client's rating of the answer given after a rectification (or a fix) is that
    review's re-rating (its second word). A new 差评 still opens a review of its own."""
    review = db.session.scalar(
        select(BadReview)
        .where(
            BadReview.case_id == rating.case_id,
            BadReview.outcome.in_(("rectified", "fixed")),
            BadReview.rerating_id.is_(None),
            BadReview.rating_id != rating.id,
        )
        .order_by(BadReview.id.desc())
        .limit(1)
    )
    if review is not None:
        review.rerating_id = rating.id
        db.session.flush()
    return review
