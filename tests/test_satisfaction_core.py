"""Satisfaction's core: an answer asks for a rating; a rating is given once; a 差评 opens a
review; a later answer is rated again and the history stays."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.models import Case
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.services import RatingInput, RatingRefused, give_rating
from cases.satisfaction.tokens import LinkState, rating_token, read_token
from cases.satisfaction.vocabulary import BadReviewStage, RatingSource, RatingStatus, level_label
from portal.db import db
from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_lifecycle import step


@pytest.fixture
def replied(database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    number = make_case(database, citizen, world).number
    step(database, number, "dispatch", clerk, department=world.urban.id)
    step(database, number, "sign_for", handler)
    step(database, number, "reply", handler, note="已处理完毕")
    return number, citizen, clerk, handler


def ratings_of(number):
    case = db.session.scalar(select(Case).where(Case.number == number))
    return list(db.session.scalars(select(Rating).where(Rating.case_id == case.id)
                                   .order_by(Rating.id)))


def test_an_answer_waits_for_one_rating_with_a_working_link(database, replied, world):
    number, citizen, *_ = replied
    with database.app_context():
        (rating,) = ratings_of(number)
        assert rating.status is RatingStatus.PENDING
        assert rating.department_id == world.urban.id
        token = rating_token(rating)
        assert read_token(token) == (rating, LinkState.OPEN)
        assert read_token(token[:-2] + "xx")[1] is LinkState.INVALID
        give_rating(rating, RatingInput(4, "yes", {"speed": 5}, " 很好 "), RatingSource.LINK)
        db.session.commit()
        assert rating.level == 4 and rating.comment == "很好" and rating.dimensions == {"speed": 5}
        assert read_token(token)[1] is LinkState.USED
        with pytest.raises(RatingRefused):
            give_rating(rating, RatingInput(1), RatingSource.LINK)
        db.session.rollback()
        assert level_label(2).startswith("★2 ")


def test_a_bad_rating_opens_a_review_and_a_later_answer_is_rated_again(
    database, replied, world
):
    number, citizen, clerk, handler = replied
    with database.app_context():
        (rating,) = ratings_of(number)
        give_rating(rating, RatingInput(2, "no", {}, "没解决"), RatingSource.LINK)
        db.session.commit()
        review = db.session.scalar(select(BadReview))
        assert review.stage is BadReviewStage.VERIFYING and review.due_at is not None
        assert review.department_id == world.urban.id
    step(database, number, "redo", clerk, note="请重新处理")
    step(database, number, "reply", handler, note="已重新处理")
    with database.app_context():
        first, second = ratings_of(number)
        assert first.level == 2 and second.status is RatingStatus.PENDING
        with pytest.raises(RatingRefused):
            give_rating(second, RatingInput(9), RatingSource.LINK)
