"""The follow-up call queue (回访): whom the service centre calls back, in which order.

Two kinds of rows: answers still waiting for their rating (the clerk records what the
client says on the phone), and 差评 whose review waits to be verified by a call. Vulnerable
clients come first, then 差评, then the oldest answer. One query for the page, one for the
count: the rows carry what the page shows (case, department, client, vulnerable flag).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, false, literal, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from cases.models import Case
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.visibility import may_follow_up, visible_ratings
from cases.satisfaction.vocabulary import BadReviewStage, RatingStatus
from cases.visibility import reporter_shown
from citizens.models import Client, ClientFlag
from portal.db import db
from portal.models import User
from portal.pagination import Page, paginate


@dataclass(frozen=True)
class FollowUpRow:
    """One call to make: the rating, whether the client is vulnerable, the 差评 if any."""

    rating: Rating
    vulnerable: bool
    review: BadReview | None

    @property
    def to_rate(self) -> bool:
        """The client is asked for the rating (else: the 差评 is verified by the call)."""
        return self.rating.status is RatingStatus.PENDING


def follow_up_query(user: User) -> Select:
    """The queue's rows as ``(Rating, vulnerable, BadReview | None)``, in calling order.

    Anonymous tip-offs stay out for whoever may not know their reporter: calling the
    client back would tell them who it is.
    """
    if not may_follow_up(user):
        return select(Rating, literal(False), BadReview).where(false())
    vulnerable = exists().where(ClientFlag.client_id == Rating.client_id)
    to_verify = and_(BadReview.id.is_not(None), BadReview.stage == BadReviewStage.VERIFYING)
    return (
        select(Rating, vulnerable.label("vulnerable"), BadReview)
        .join(Case, Case.id == Rating.case_id)
        .join(Client, Client.id == Rating.client_id)
        .outerjoin(BadReview, BadReview.rating_id == Rating.id)
        .where(
            or_(Rating.status == RatingStatus.PENDING, to_verify),
            visible_ratings(user),
            reporter_shown(user),
            Client.anonymised_at.is_(None),
        )
        .options(
            contains_eager(Rating.case).joinedload(Case.department),
            contains_eager(Rating.client),
        )
        .order_by(
            vulnerable.desc(),
            BadReview.id.is_(None),  # False (a 差评) sorts before True
            Rating.requested_at,
            Rating.id,
        )
    )


def follow_up_page(user: User, page: int, per_page: int) -> Page[FollowUpRow]:
    """One page of the queue (two queries whatever its length)."""
    found = paginate(follow_up_query(user), page, per_page, scalars=False)
    return found.map(lambda row: FollowUpRow(row[0], bool(row[1]), row[2]))


def follow_up_rating(user: User, rating_id: int) -> Rating | None:
    """The rating ``user`` may record a call about (still in the queue), else None."""
    if not may_follow_up(user):
        return None
    return db.session.scalar(
        select(Rating)
        .join(Case, Case.id == Rating.case_id)
        .where(Rating.id == rating_id, visible_ratings(user), reporter_shown(user))
        .options(joinedload(Rating.case), joinedload(Rating.client))
    )

