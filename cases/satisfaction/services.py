"""Asking for a rating, giving it, and what follows a bad one.

``ask_for_rating`` runs when an answer is published (``cases.services.lifecycle``), before
the client is told, so the message carries the link. ``give_rating`` is the one door for
every way a rating arrives (the link, the case page, a follow-up call); a second, racing
submission loses on a conditional UPDATE and changes nothing. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from cases.actors import Actor, Who
from cases.models import Case, CaseReply
from cases.satisfaction.bad_reviews import close_rectified, note_rerating, open_bad_review
from cases.satisfaction.models import FollowUpCall, Rating
from cases.satisfaction.settings import active_dimensions, current_settings, default_moment
from cases.satisfaction.tokens import new_nonce
from cases.satisfaction.vocabulary import LEVELS, RatingSource, RatingStatus, Solved
from cases.services.rules import record_event
from portal.changes import record_change
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

MAX_COMMENT = 2000


class RatingRefused(DomainError):
    """The rating cannot be given (already given, expired, bad values); nothing changed."""


@dataclass
class RatingInput:
    """What a person says about an answer; checked by ``check_input``."""

    level: int | None
    solved: str | None = None
    dimensions: dict[str, int] = field(default_factory=dict)
    comment: str | None = None


# --- asking -------------------------------------------------------------------------


def ask_for_rating(case: Case, reply: CaseReply, actor: Who) -> Rating:
    """A new answer waits for its rating; an earlier answer still waiting is no longer asked.

    The answering department is the case's lead department (None: answered at intake).
    A 差评 being rectified on the case closes as rectified: this is the department's new
    answer, which the client rates again (``bad_reviews.note_rerating`` links that rating).
    """
    now = utcnow()
    settings = current_settings()
    close_rectified(case)
    superseded = db.session.execute(
        update(Rating)
        .where(Rating.case_id == case.id, Rating.status == RatingStatus.PENDING)
        .values(status=RatingStatus.UNRATED, default_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if superseded:
        record_change("case", case.id)
    rating = Rating(
        case_id=case.id,
        reply_id=reply.id,
        client_id=case.client_id,
        department_id=case.department_id,
        answered_by_id=Actor.of(actor).user_id,
        status=RatingStatus.PENDING,
        nonce=new_nonce(),
        requested_at=now,
        link_expires_at=now + timedelta(days=settings.link_valid_days),
        remind_at=(
            now + timedelta(days=settings.remind_after_days)
            if settings.remind_after_days else None
        ),
        default_at=default_moment(now, settings),
    )
    db.session.add(rating)
    db.session.flush()
    return rating


# --- giving ---------------------------------------------------------------------------


def check_input(data: RatingInput) -> RatingInput:
    """The input cleaned, or ``RatingRefused`` naming the field that is wrong."""
    if data.level not in LEVELS:
        raise RatingRefused(_("Choose how satisfied you are, from 1 to 5 stars."), field="level")
    solved = data.solved or None
    if solved is not None and solved not in {s.value for s in Solved}:
        raise RatingRefused(_("Say whether your problem was solved."), field="solved")
    known = {d.key for d in active_dimensions()}
    dimensions = {}
    for key, value in (data.dimensions or {}).items():
        if key not in known:
            continue
        if value not in LEVELS:
            raise RatingRefused(_("Rate each aspect from 1 to 5 stars."), field=key)
        dimensions[key] = value
    comment = (data.comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise RatingRefused(
            _("The comment is too long (at most %(n)d characters).", n=MAX_COMMENT),
            field="comment",
        )
    return RatingInput(data.level, solved, dimensions, comment)


def give_rating(
    rating: Rating, data: RatingInput, source: RatingSource, actor: Who = None
) -> Rating:
    """Record the client's rating of one answer, once.

    ``source`` says how it came (link, case page, phone); for a phone follow-up ``actor`` is
    the clerk, recorded as ``recorded_by``. A 差评 (★2, ★1) opens the bad-review loop at once.
    """
    data = check_input(data)
    now = utcnow()
    who = Actor.of(actor)
    recorded_by = who.user_id if source is RatingSource.PHONE else None
    changed = db.session.execute(
        update(Rating)
        .where(Rating.id == rating.id, Rating.status == RatingStatus.PENDING)
        .values(
            status=RatingStatus.RATED,
            level=data.level,
            solved=Solved(data.solved) if data.solved else None,
            dimensions=data.dimensions or None,
            comment=data.comment,
            source=source,
            recorded_by_id=recorded_by,
            rated_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise RatingRefused(_("This answer has already been rated."))
    db.session.refresh(rating)
    record_change("case", rating.case_id)
    case = db.session.get(Case, rating.case_id)
    record_event(
        case, actor, "rated", None, None, None, is_public=True,
        details={"rating": rating.id, "level": data.level, "source": source.value},
    )
    if source is RatingSource.PHONE:
        db.session.add(FollowUpCall(rating_id=rating.id, caller_id=who.user_id, reached=True))
    db.session.flush()
    note_rerating(rating)
    if rating.is_bad:
        open_bad_review(rating)
    return rating


def record_unreachable(rating: Rating, caller: User, note: str | None = None) -> FollowUpCall:
    """A follow-up call that did not reach the client: recorded and counted."""
    if rating.status is not RatingStatus.PENDING:
        raise RatingRefused(_("This answer has already been rated."))
    call = FollowUpCall(rating_id=rating.id, caller_id=caller.id, reached=False,
                        note=(note or "").strip() or None)
    db.session.add(call)
    db.session.execute(
        update(Rating)
        .where(Rating.id == rating.id)
        .values(unreachable_count=Rating.unreachable_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.refresh(rating)
    return call


# --- reading ---------------------------------------------------------------------------


def case_ratings(case_id: int) -> list[Rating]:
    """Every rating of a case, oldest first (the history kept across answers)."""
    return list(db.session.scalars(
        select(Rating).where(Rating.case_id == case_id).order_by(Rating.id)
    ))


def pending_rating(case_id: int) -> Rating | None:
    """The rating the case's latest answer waits for, if any."""
    return db.session.scalar(
        select(Rating)
        .where(Rating.case_id == case_id, Rating.status == RatingStatus.PENDING)
        .order_by(Rating.id.desc())
        .limit(1)
    )


def latest_rating(case_id: int) -> Rating | None:
    return db.session.scalar(
        select(Rating).where(Rating.case_id == case_id).order_by(Rating.id.desc()).limit(1)
    )
