"""The demo's ratings: most answers rated by their clients (a few 差评, some verified and
handled), the rest waiting, so the ratings list, the follow-up queue and the ledger have
something to show. Ratings go through the real services, then are dated after the answer.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from cases.calendar import load_calendar
from cases.demo.people import People
from cases.models import CaseEvent, CaseReply, TimeUnit
from cases.notifications import silenced
from cases.satisfaction.bad_reviews import explain, verify
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.services import RatingInput, give_rating
from cases.satisfaction.settings import active_dimensions, current_settings, default_moment
from cases.satisfaction.vocabulary import RatingSource, RatingStatus
from portal.db import db

LEVEL_WEIGHTS = {5: 45, 4: 25, 3: 15, 2: 10, 1: 5}
RATED_SHARE = 0.7  # of the answers old enough to have been rated
COMMENTS = {
    5: "处理很及时，非常感谢！", 4: "问题已解决，态度不错。", 3: "基本解决了，希望再快一些。",
    2: "答复敷衍，问题没有真正解决。", 1: "没有任何人联系我，问题依旧。",
}
SOLVED = {5: "yes", 4: "yes", 3: "partly", 2: "no", 1: "no"}


def load_ratings(people: People, rng: random.Random, now: datetime) -> None:
    """Rate the demo's answers as their clients would have (see the module's note)."""
    settings = current_settings()
    keys = [d.key for d in active_dimensions()]
    rows = db.session.execute(
        select(Rating, CaseReply.created_at)
        .join(CaseReply, CaseReply.id == Rating.reply_id)
        .where(Rating.status == RatingStatus.PENDING)
        .order_by(Rating.id)
    ).all()
    with silenced():
        for rating, answered_at in rows:
            _date_request(rating, answered_at, settings)
            if now - answered_at < timedelta(days=1) or rng.random() > RATED_SHARE:
                continue
            level = rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]
            # After the case's last step (a timeline reads in order), before now.
            last = db.session.scalar(
                select(func.max(CaseEvent.created_at)).where(CaseEvent.case_id == rating.case_id)
            )
            at = answered_at + timedelta(hours=rng.randint(2, 60))
            at = min(max(at, last + timedelta(minutes=5)), now - timedelta(minutes=2))
            by_phone = rng.random() < 0.25
            started = now - timedelta(seconds=1)
            give_rating(
                rating,
                RatingInput(level, SOLVED[level],
                            {key: max(1, min(5, level + rng.choice((-1, 0, 0, 1))))
                             for key in keys},
                            COMMENTS[level] if level <= 3 or rng.random() < 0.3 else None),
                RatingSource.PHONE if by_phone else RatingSource.LINK,
                people.users["clerk"] if by_phone else None,
            )
            rating.rated_at = at
            _date_lines(rating.case_id, started, at)
            if rating.is_bad:
                _follow_bad_review(rating, people, rng, at, now)
    db.session.flush()


def _date_request(rating: Rating, answered_at: datetime, settings) -> None:
    rating.requested_at = answered_at
    rating.link_expires_at = answered_at + timedelta(days=settings.link_valid_days)
    rating.remind_at = (answered_at + timedelta(days=settings.remind_after_days)
                        if settings.remind_after_days else None)
    rating.default_at = default_moment(answered_at, settings)


def _date_lines(case_id: int, since: datetime, at: datetime) -> None:
    db.session.flush()
    db.session.execute(
        update(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.created_at >= since)
        .values(created_at=at)
        .execution_options(synchronize_session=False)
    )


def _follow_bad_review(rating: Rating, people: People, rng: random.Random,
                       at: datetime, now: datetime) -> None:
    """Half the 差评 verified by the department; some of those explained."""
    review = db.session.scalar(select(BadReview).where(BadReview.rating_id == rating.id))
    if review is None:
        return
    review.created_at = at
    days = current_settings().verify_working_days
    review.due_at = load_calendar().add(at, days, TimeUnit.DAYS)  # from the rating, not now
    if rating.department is None or rng.random() < 0.5:
        return
    handler = people.handler_of(rating.department)
    started = now - timedelta(seconds=1)
    later = min(at + timedelta(days=1), now - timedelta(minutes=1))
    verify(review, handler, "已电话回访核实：诉求人反映情况属实。")
    review.verified_at = later
    if rng.random() < 0.5:
        explain(review, handler, "经核实，该问题涉及规划调整，暂无法立即解决，已列入明年计划。")
        review.resolved_at = review.closed_at = later
        db.session.flush()  # the explanation is an answer: date it and its rating request
        for reply in db.session.scalars(select(CaseReply).where(
                CaseReply.case_id == rating.case_id, CaseReply.created_at >= started)):
            reply.created_at = later
        for asked in db.session.scalars(select(Rating).where(
                Rating.case_id == rating.case_id, Rating.requested_at >= started)):
            _date_request(asked, later, current_settings())
    _date_lines(rating.case_id, started, later)
