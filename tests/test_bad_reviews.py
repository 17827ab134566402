"""The 差评 loop (issue 12, item 3), through HTTP where it can be: a ★2 is told to the
department and the supervisors, verified by a call, then fixed, rectified (the case comes
back with a 15-working-day deadline and is rated again), explained or appealed (upheld:
set aside and kept; refused: back to deciding); wrong stages and other departments are
refused; the ledger is scoped, filtered and exported; the sweep marks overdue once."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from cases.calendar import load_calendar
from cases.models import Case, CaseEvent, CaseReply, CaseStatus, TimeUnit
from cases.satisfaction.bad_reviews import sweep_bad_reviews
from cases.satisfaction.models import BadReview, Rating
from cases.satisfaction.services import RatingInput, give_rating
from cases.satisfaction.vocabulary import BadReviewStage, RatingSource, RatingStatus
from cases.services import ActionInput, perform
from portal.db import db
from portal.models import Department, Role, User
from portal.notifications.models import InboxMessage
from tests.conftest import sign_in, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import step


@pytest.fixture
def people(database, world):
    return SimpleNamespace(
        citizen=make_user(database, Role.CITIZEN),
        clerk=make_user(database, Role.CLERK),
        handler=make_user(database, Role.HANDLER, department_id=world.urban.id),
        head=make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id),
        supervisor=make_user(database, Role.SUPERVISOR),
        other=make_user(database, Role.HANDLER, department_id=world.transport.id),
        other_head=make_user(database, Role.DEPARTMENT_HEAD, department_id=world.transport.id),
    )


def answered_case(database, world, people, level=2, comment="没解决"):
    """A case led by urban (transport assisting), replied, and rated ``level``."""
    number = make_case(database, people.citizen, world).number
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        perform(case, "dispatch", db.session.get(User, people.clerk.id), ActionInput(
            department=db.session.get(Department, world.urban.id),
            assisting=[db.session.get(Department, world.transport.id)],
        ))
        db.session.commit()
    step(database, number, "sign_for", people.handler)
    step(database, number, "reply", people.handler, note="已处理完毕")
    with database.app_context():
        rating = latest_rating(number)
        give_rating(rating, RatingInput(level, "no", {}, comment), RatingSource.LINK)
        db.session.commit()
    return number


@pytest.fixture
def bad(database, world, people):
    return answered_case(database, world, people)


def case_of(number):
    return db.session.scalar(select(Case).where(Case.number == number))


def latest_rating(number):
    return db.session.scalar(
        select(Rating).where(Rating.case_id == case_of(number).id).order_by(Rating.id.desc())
    )


def review_of(number) -> BadReview:
    db.session.expire_all()
    return db.session.scalar(
        select(BadReview).where(BadReview.case_id == case_of(number).id).order_by(BadReview.id)
    )


def post_step(client, database, number, name, data):
    with database.app_context():
        review_id = review_of(number).id
    url = f"/cases/{number}/bad-review/{review_id}/{name}"
    return submit(client, f"/cases/{number}", data, action=url)


def as_user(client, user):
    client.post("/logout", data={"csrf_token": _token(client)})
    assert sign_in(client, user.username).status_code == 302


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


def actions(number):
    return [e.action for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_of(number).id).order_by(CaseEvent.id)
    )]


def told(user, text):
    return any(text in (m.subject or "") + (m.body or "") for m in db.session.scalars(
        select(InboxMessage).where(InboxMessage.user_id == user.id)
    ))


def test_a_bad_rating_is_told_to_the_department_and_supervisors(database, bad, people):
    with database.app_context():
        review = review_of(bad)
        assert review.stage is BadReviewStage.VERIFYING and review.due_at is not None
        assert "bad_review" in actions(bad)
        for user in (people.handler, people.supervisor):
            assert told(user, bad), user.role
        assert not told(people.other, "★2")


def test_verify_then_fix_publishes_a_new_answer_rated_again(
    client, database, bad, people
):
    as_user(client, people.handler)
    page = client.get(f"/cases/{bad}").get_data(as_text=True)
    assert "bad-review/" in page and "/verify" in page
    response = post_step(client, database, bad, "verify", {"note": "已电话回访，情况属实"})
    assert response.status_code == 302
    response = post_step(client, database, bad, "fix", {"note": "已当场清理完毕"})
    assert response.status_code == 302
    with database.app_context():
        review = review_of(bad)
        assert review.stage is BadReviewStage.CLOSED and review.outcome == "fixed"
        assert review.verified_by_id == people.handler.id
        assert review.verification_note == "已电话回访，情况属实"
        assert review.resolved_by_id == people.handler.id
        replies = db.session.scalars(select(CaseReply).where(
            CaseReply.case_id == case_of(bad).id).order_by(CaseReply.id)).all()
        assert replies[-1].body == "已当场清理完毕" and replies[-1].is_public
        again = latest_rating(bad)
        assert again.status is RatingStatus.PENDING and again.reply_id == replies[-1].id
        give_rating(again, RatingInput(5), RatingSource.LINK)
        db.session.commit()
        assert review_of(bad).rerating_id == again.id
        assert {"bad_review_verified", "bad_review_fixed"} <= set(actions(bad))


def test_rectify_sends_the_case_back_and_the_new_answer_is_rated_again(
    client, database, bad, people
):
    as_user(client, people.head)
    assert post_step(client, database, bad, "verify", {"note": "核实属实"}).status_code == 302
    response = post_step(client, database, bad, "rectify", {"note": "限期重新处理"})
    assert response.status_code == 302
    with database.app_context():
        case, review = case_of(bad), review_of(bad)
        assert case.status is CaseStatus.IN_PROGRESS and case.redo_count == 1
        expected = load_calendar().add(review.resolved_at, 15, TimeUnit.DAYS)
        assert abs(case.reply_due_at - expected) < timedelta(minutes=1)
        assert case.due_at == case.reply_due_at == review.due_at == review.rectify_due_at
        assert review.stage is BadReviewStage.RECTIFYING
        assert told(people.handler, "限期整改")
        assert told(people.citizen, "已安排限期整改")  # the client hears it, and by when
    step(database, bad, "reply", people.handler, note="已重新处理完毕")
    with database.app_context():
        review = review_of(bad)
        assert review.stage is BadReviewStage.CLOSED and review.outcome == "rectified"
        again = latest_rating(bad)
        assert again.status is RatingStatus.PENDING
        give_rating(again, RatingInput(4), RatingSource.LINK)
        db.session.commit()
        assert review_of(bad).rerating_id == again.id


def test_explain_replies_and_closes(client, database, bad, people):
    as_user(client, people.handler)
    post_step(client, database, bad, "verify", {"note": "核实"})
    response = post_step(client, database, bad, "explain", {"note": "该路段属于省管，已转告"})
    assert response.status_code == 302
    with database.app_context():
        review = review_of(bad)
        assert (review.stage, review.outcome) == (BadReviewStage.CLOSED, "explained")
        assert review.resolution == "explain"
        reply = db.session.scalar(select(CaseReply).order_by(CaseReply.id.desc()))
        assert reply.body == "该路段属于省管，已转告" and reply.is_public
        again = latest_rating(bad)  # an answer like any other: rated, and linked
        assert again.reply_id == reply.id and again.status is RatingStatus.PENDING
        give_rating(again, RatingInput(3), RatingSource.LINK)
        db.session.commit()
        assert review_of(bad).rerating_id == again.id


def test_appeal_upheld_sets_the_rating_aside_and_keeps_it(client, database, bad, people):
    as_user(client, people.handler)
    post_step(client, database, bad, "verify", {"note": "诉求人表示是误评"})
    # Supervisors decide appeals; they do not lodge them.
    response = post_step(client, database, bad, "appeal", {"evidence": "通话录音"})
    assert response.status_code == 302
    with database.app_context():
        assert review_of(bad).stage is BadReviewStage.APPEALED
        assert told(people.supervisor, "申诉")
    # The department may not decide its own appeal.
    assert post_step(client, database, bad, "decide",
                     {"decision": "uphold", "note": "x"}).status_code == 403
    as_user(client, people.supervisor)
    assert post_step(client, database, bad, "appeal", {"evidence": "x"}).status_code == 403
    response = post_step(client, database, bad, "decide",
                         {"decision": "uphold", "note": "录音证实为误评"})
    assert response.status_code == 302
    with database.app_context():
        review = review_of(bad)
        assert (review.stage, review.outcome) == (BadReviewStage.CLOSED, "set_aside")
        assert review.appeal_upheld is True and review.appeal_decided_by_id == people.supervisor.id
        rating = review.rating
        assert rating.set_aside and rating.level == 2 and not rating.counts
        assert told(people.handler, "申诉已通过")
    page = client.get(f"/cases/{bad}").get_data(as_text=True)
    assert "★2" in page and "bad-review--set-aside" in page


def test_appeal_refused_goes_back_to_deciding_then_explain(client, database, bad, people):
    as_user(client, people.handler)
    post_step(client, database, bad, "verify", {"note": "核实"})
    post_step(client, database, bad, "appeal", {"evidence": "我们认为不实"})
    as_user(client, people.supervisor)
    response = post_step(client, database, bad, "decide",
                         {"decision": "refuse", "note": "证据不足"})
    assert response.status_code == 302
    with database.app_context():
        review = review_of(bad)
        assert review.stage is BadReviewStage.DECIDING and review.appeal_upheld is False
        assert review.appeal_decision_note == "证据不足" and review.appeal_evidence
        assert not review.rating.set_aside
        assert {"appeal_rejected", "bad_review_appealed"} <= set(actions(bad))
    as_user(client, people.handler)
    # No second appeal: another way.
    assert post_step(client, database, bad, "appeal", {"evidence": "再次申诉"}).status_code == 409
    assert post_step(client, database, bad, "explain", {"note": "说明原因"}).status_code == 302
    with database.app_context():
        assert review_of(bad).outcome == "explained"


@pytest.mark.parametrize("uphold", [True, False])
def test_an_appeal_while_rectifying_leaves_the_rectification_running(
    client, database, bad, people, uphold
):
    as_user(client, people.handler)
    post_step(client, database, bad, "verify", {"note": "核实"})
    post_step(client, database, bad, "rectify", {"note": "重新处理"})
    with database.app_context():
        due = review_of(bad).rectify_due_at
    assert post_step(client, database, bad, "appeal", {"evidence": "恶意评价"}).status_code == 302
    as_user(client, people.supervisor)
    decision = "uphold" if uphold else "refuse"
    assert post_step(client, database, bad, "decide",
                     {"decision": decision, "note": "决定"}).status_code == 302
    with database.app_context():
        review = review_of(bad)
        assert review.resolution == "rectify" and review.appeal_evidence == "恶意评价"
        assert case_of(bad).status is CaseStatus.IN_PROGRESS  # still to be answered
        if uphold:
            assert review.outcome == "set_aside" and review.rating.set_aside
        else:
            assert review.stage is BadReviewStage.RECTIFYING and review.due_at == due
            assert not review.rating.set_aside


def test_wrong_stage_missing_text_and_stale_page_are_refused(client, database, bad, people):
    as_user(client, people.handler)
    # Not verified yet: no fix.
    assert post_step(client, database, bad, "fix", {"note": "x"}).status_code == 409
    assert post_step(client, database, bad, "verify", {"note": "  "}).status_code == 422
    assert post_step(client, database, bad, "nonsense", {"note": "x"}).status_code == 404
    with database.app_context():
        version = review_of(bad).version
    assert post_step(client, database, bad, "verify",
                     {"note": "ok", "version": version}).status_code == 302
    # The page that showed the old version is refused, and so is a repeated step.
    assert post_step(client, database, bad, "fix",
                     {"note": "x", "version": version}).status_code == 409
    assert post_step(client, database, bad, "verify", {"note": "again"}).status_code == 409
    with database.app_context():
        assert actions(bad).count("bad_review_verified") == 1


def test_other_departments_and_intake_may_not_handle(client, database, bad, people):
    as_user(client, people.other)  # an assisting department sees the case, not the review
    assert post_step(client, database, bad, "verify", {"note": "x"}).status_code == 403
    as_user(client, people.clerk)  # the service centre handles only its own answers
    assert post_step(client, database, bad, "verify", {"note": "x"}).status_code == 403
    as_user(client, people.citizen)
    assert post_step(client, database, bad, "verify", {"note": "x"}).status_code == 403
    with database.app_context():
        assert review_of(bad).stage is BadReviewStage.VERIFYING


def test_the_ledger_is_scoped_filtered_and_exported(
    client, database, world, people, bad
):
    # A second bad review, in transport, whose comment tries a formula.
    number = make_case(database, people.citizen, world).number
    step(database, number, "dispatch", people.clerk, department=world.transport.id)
    step(database, number, "sign_for", people.other)
    step(database, number, "reply", people.other, note="已答复")
    with database.app_context():
        give_rating(latest_rating(number), RatingInput(1, None, {}, "=HYPERLINK(\"x\")"),
                    RatingSource.LINK)
        db.session.commit()
    as_user(client, people.head)  # urban's head: urban only
    page = client.get("/ratings/ledger").get_data(as_text=True)
    assert bad in page and number not in page
    assert client.get(f"/ratings/ledger?department={world.transport.id}").get_data(
        as_text=True).count(number) == 0
    as_user(client, people.supervisor)
    page = client.get("/ratings/ledger").get_data(as_text=True)
    assert bad in page and number in page
    page = client.get(f"/ratings/ledger?department={world.transport.id}&stage=verifying"
                      "&outcome=open&overdue=no&from=2000-01-01&to=2999-12-31").get_data(
                          as_text=True)
    assert number in page and bad not in page
    assert client.get("/ratings/ledger?overdue=yes").get_data(as_text=True).count(number) == 0
    export = client.get("/ratings/ledger/export?format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [c for row in rows for c in row]
    assert "'=HYPERLINK(\"x\")" in cells and "=HYPERLINK(\"x\")" not in cells
    assert {r[0] for r in rows[1:]} == {bad, number}
    workbook = client.get("/ratings/ledger/export?format=xlsx")
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.get_data())).active
    cells_of = [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]
    assert cells_of == rows  # the same cells as the CSV (empty ones read back as None)
    assert client.get("/ratings/ledger/export?format=exe").status_code == 404
    for user in (people.handler, people.clerk, people.citizen):
        as_user(client, user)
        assert client.get("/ratings/ledger").status_code == 403
        assert client.get("/ratings/ledger/export").status_code == 403


def test_overdue_is_marked_once(database, bad, people):
    with database.app_context():
        review = review_of(bad)
        later = review.due_at + timedelta(minutes=1)
        assert sweep_bad_reviews(review.due_at - timedelta(minutes=1)) == 0
        assert sweep_bad_reviews(later) == 1
        db.session.commit()
        assert sweep_bad_reviews(later + timedelta(days=3)) == 0
        db.session.commit()
        assert review_of(bad).overdue_at is not None
        assert actions(bad).count("bad_review_overdue") == 1
        assert told(people.supervisor, "超期")


def test_a_racing_second_writer_loses(database, bad, people):
    from sqlalchemy import update
    from sqlalchemy.orm.exc import StaleDataError

    from cases.satisfaction.bad_reviews import verify

    with database.app_context():
        review = review_of(bad)
        handler = db.session.get(User, people.handler.id)
        # A colleague's step lands between this one's read and its write.
        db.session.execute(
            update(BadReview).where(BadReview.id == review.id)
            .values(version=BadReview.version + 1)
            .execution_options(synchronize_session=False)
        )
        with pytest.raises(StaleDataError):
            verify(review, handler, "核实")  # flushes: its UPDATE matches no row
            db.session.flush()
        db.session.rollback()
        assert review_of(bad).stage is BadReviewStage.VERIFYING


def test_an_answer_at_intake_is_handled_by_the_service_centre(
    client, database, world, people
):
    number = make_case(database, people.citizen, world).number
    step(database, number, "answer", people.clerk, note="政策咨询已答复")
    with database.app_context():
        give_rating(latest_rating(number), RatingInput(1), RatingSource.LINK)
        db.session.commit()
        assert review_of(number).department_id is None
        assert told(people.clerk, number) and told(people.supervisor, number)
        assert not told(people.handler, number)
    as_user(client, people.handler)  # a department does not see this case at all
    assert post_step(client, database, number, "verify", {"note": "x"}).status_code == 404
    as_user(client, people.clerk)
    assert post_step(client, database, number, "verify", {"note": "核实"}).status_code == 302
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "/rectify" not in page and "/fix" in page
    assert post_step(client, database, number, "rectify", {"note": "x"}).status_code == 409
    assert post_step(client, database, number, "fix", {"note": "已补充答复"}).status_code == 302
    with database.app_context():
        assert review_of(number).outcome == "fixed"
