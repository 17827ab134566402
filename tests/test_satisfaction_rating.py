"""Giving a rating, through HTTP: the link /rate/<token> (expired, used, forged, another
case's), the owner's form on the case page, what staff read there, the messages that carry
the link, and the sweep's one reminder and default rating on a frozen clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, event, func, select

from cases.catalogue.models import CalendarDay
from cases.models import Case, CaseEvent
from cases.satisfaction.models import Rating, RatingDimension
from cases.satisfaction.services import RatingInput, give_rating
from cases.satisfaction.settings import current_settings
from cases.satisfaction.sweep import remind
from cases.satisfaction.vocabulary import RatingSource, RatingStatus
from cases.sweep import sweep_deadlines
from cases.tracking import issue_tracking_code
from portal.db import db, utcnow
from portal.models import Role
from portal.notifications.models import InboxMessage
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_sweep import run_together

RATE_LINK = re.compile(r"/rate/([A-Za-z0-9_.\-]+)")
EN = {"Accept-Language": "en"}
REPLY = "已协调施工单位停止夜间施工"


@pytest.fixture
def people(database, world):
    citizen = make_user(database, Role.CITIZEN, name="张三丰", phone="13912345678")
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    return citizen, clerk, handler


def answer(database, world, people, **kw) -> str:
    """A case of the citizen's, dispatched to urban and replied; its number."""
    citizen, clerk, handler = people
    number = make_case(database, citizen, world, **kw).number
    step(database, number, "dispatch", clerk, department=world.urban.id)
    step(database, number, "sign_for", handler)
    step(database, number, "reply", handler, note=REPLY)
    return number


@pytest.fixture
def replied(database, world, people):
    return answer(database, world, people)


def ratings(app, number) -> list[Rating]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        rows = list(db.session.scalars(
            select(Rating).where(Rating.case_id == case.id).order_by(Rating.id)
        ))
        db.session.expunge_all()
        return rows


def inbox_bodies(app, user) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            select(InboxMessage.body).where(InboxMessage.user_id == user.id)
            .order_by(InboxMessage.id)
        ))


def link_of(body: str) -> str:
    match = RATE_LINK.search(body)
    assert match, body
    return f"/rate/{match.group(1)}"


def reply_link(app, citizen) -> str:
    return link_of(next(b for b in inbox_bodies(app, citizen) if REPLY in b))


def rate_by_link(client, link, **fields):
    data = {"level": "4", "solved": "yes", **fields}
    return submit(client, link, data, headers=EN)


def events(app, number, action) -> list[CaseEvent]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        rows = list(db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == action)
        ))
        db.session.expunge_all()
        return rows


# --- the link ---------------------------------------------------------------------------


def test_the_reply_message_carries_the_link_and_the_link_rates_once(
    client, database, people, replied
):
    citizen = people[0]
    link = reply_link(database, citizen)
    with database.app_context():
        db.session.execute(delete(RatingDimension))
        db.session.commit()
    page = client.get(link, headers=EN)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    with database.app_context():  # showing the form wrote nothing (the defaults stand in)
        assert db.session.scalar(select(func.count()).select_from(RatingDimension)) == 0
    assert replied in text and REPLY in text and "五一路夜间施工噪音扰民" in text
    assert "张三丰" not in text and "13912345678" not in text  # nothing personal
    for name in ('name="level"', 'name="solved"', 'name="speed"', 'name="comment"'):
        assert name in text

    done = rate_by_link(client, link, speed="5", comment="处理很及时")
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    (rating,) = ratings(database, replied)
    assert rating.status is RatingStatus.RATED and rating.source is RatingSource.LINK
    assert (rating.level, rating.solved.value, rating.dimensions, rating.comment) == (
        4, "yes", {"speed": 5}, "处理很及时"
    )
    again = client.get(link, headers=EN)
    assert again.status_code == 410 and "already been rated" in again.get_data(as_text=True)
    token = csrf_token(client, "/login")
    reused = client.post(link, data={"csrf_token": token, "level": "1"}, headers=EN)
    assert reused.status_code == 410
    assert ratings(database, replied)[0].level == 4


def test_forged_unknown_and_expired_links_get_a_clear_page(client, database, people, replied):
    link = reply_link(database, people[0])
    for bad in (link[:-3] + "abc", "/rate/nonsense", "/rate/" + "A" * 300):
        page = client.get(bad, headers=EN)
        assert page.status_code == 404 and "not valid" in page.get_data(as_text=True)
    token = csrf_token(client, "/login")
    forged = client.post(link[:-3] + "abc", data={"csrf_token": token, "level": "1"})
    assert forged.status_code == 404
    later = datetime.now(UTC) + timedelta(days=current_link_days(database) + 1)
    with time_machine.travel(later, tick=False):
        page = client.get(link, headers=EN)
        assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
        token = csrf_token(client, "/login")
        posted = client.post(link, data={"csrf_token": token, "level": "5"}, headers=EN)
        assert posted.status_code == 410
    assert ratings(database, replied)[0].status is RatingStatus.PENDING


def test_posting_ratings_is_rate_limited(client, database, people, replied):
    link = reply_link(database, people[0])
    before = database.config["RATING_RATE_LIMIT"]
    database.config["RATING_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [submit(client, link, {"level": "9"}).status_code for _ in range(3)]
    finally:
        database.config["RATING_RATE_LIMIT"] = before
    assert statuses == [422, 422, 429]


def current_link_days(app) -> int:
    with app.app_context():
        days = current_settings().link_valid_days
        db.session.commit()
        return days


def test_bad_input_is_refused_with_what_was_typed(client, database, people, replied):
    link = reply_link(database, people[0])
    for data in ({"level": "9"}, {"level": "x"}, {}, {"level": "3", "solved": "maybe"},
                 {"level": "3", "speed": "7"}, {"level": "3", "comment": "长" * 2001}):
        page = submit(client, link, {**data, "comment": data.get("comment", "我写的意见")},
                      headers=EN)
        assert page.status_code == 422, data
        assert "我写的意见" in page.get_data(as_text=True) or "comment" in data
    assert ratings(database, replied)[0].status is RatingStatus.PENDING


def test_a_link_rates_only_its_own_answer(client, database, world, people, replied):
    citizen = people[0]
    other = answer(database, world, people, title="另一件事")
    link_a = reply_link(database, citizen)  # the first reply message: case A's
    assert rate_by_link(client, link_a, level="2").status_code == 200
    (rating_a,) = ratings(database, replied)
    (rating_b,) = ratings(database, other)
    assert rating_a.level == 2 and rating_b.status is RatingStatus.PENDING

    # On case B's page, its owner cannot rate case A's answer (nor a made-up one).
    sign_in(client, citizen.username)
    page = f"/cases/{other}"
    for rating_id in (str(rating_a.id), "999999", "x"):
        refused = submit(client, page, {"rating": rating_id, "level": "5"},
                         action=f"/cases/{other}/rate")
        assert refused.status_code == 404, rating_id
    assert ratings(database, other)[0].status is RatingStatus.PENDING
    assert ratings(database, replied)[0].level == 2


def test_the_closing_message_leads_to_the_rating_page(client, database, people, replied):
    citizen, clerk, _handler = people
    step(database, replied, "close", clerk)
    bodies = inbox_bodies(database, citizen)
    closing = bodies[-1]
    assert "已办结" in closing or "closed" in closing
    page = client.get(link_of(closing), headers=EN)
    assert page.status_code == 200 and 'name="level"' in page.get_data(as_text=True)


def test_the_track_page_offers_the_link_while_a_rating_is_pending(
    client, database, world, people
):
    number = answer(database, world, people)
    code = _lookup_code(database, number)
    page = client.get("/track", query_string={"number": number, "code": code}, headers=EN)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Rate this answer" in text and "/rate/" in text


def _lookup_code(app, number) -> str:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        code = issue_tracking_code(case)
        db.session.commit()
        return code


# --- the case page ----------------------------------------------------------------------


def test_the_owner_rates_on_the_case_page_and_staff_read_it(
    client, database, people, replied, login_as
):
    citizen = people[0]
    sign_in(client, citizen.username)
    page = client.get(f"/cases/{replied}", headers=EN)
    text = page.get_data(as_text=True)
    assert 'name="level"' in text and f"/cases/{replied}/rate" in text
    (rating,) = ratings(database, replied)

    bad = submit(client, f"/cases/{replied}", {"rating": rating.id, "level": "0",
                                                "comment": "我写的意见"},
                 action=f"/cases/{replied}/rate", headers=EN)
    assert bad.status_code == 422 and "我写的意见" in bad.get_data(as_text=True)

    done = submit(client, f"/cases/{replied}",
                  {"rating": rating.id, "level": "2", "solved": "no", "attitude": "1",
                   "comment": "噪音依旧"},
                  action=f"/cases/{replied}/rate")
    assert done.status_code == 302
    (rating,) = ratings(database, replied)
    assert (rating.level, rating.source) == (2, RatingSource.CASE_PAGE)
    again = submit(client, f"/cases/{replied}", {"rating": rating.id, "level": "5"},
                   action=f"/cases/{replied}/rate", headers=EN)
    assert again.status_code == 409 and "already been rated" in again.get_data(as_text=True)
    own = client.get(f"/cases/{replied}", headers=EN).get_data(as_text=True)
    assert "★2 Dissatisfied" in own and "噪音依旧" in own and 'name="level"' not in own

    login_as("handler")  # of the urban department, whose answer it was
    staff = client.get(f"/cases/{replied}", headers=EN).get_data(as_text=True)
    assert "★2 Dissatisfied" in staff and "噪音依旧" in staff and "Case page" in staff
    zh = client.get(f"/cases/{replied}", headers={"Accept-Language": "zh-CN"})
    assert "★2 不满意" in zh.get_data(as_text=True)
    timeline = [e.details for e in events(database, replied, "rated")]
    assert timeline == [{"rating": rating.id, "level": 2, "source": "case_page"}]


def test_nobody_else_rates_a_clients_case(client, database, people, replied, login_as):
    (rating,) = ratings(database, replied)
    login_as("citizen")
    page = client.post(f"/cases/{replied}/rate",
                       data={"csrf_token": csrf_token(client, "/"), "rating": rating.id,
                             "level": "1"})
    assert page.status_code == 404
    login_as("handler")  # sees the case, may not rate it
    refused = submit(client, f"/cases/{replied}", {"rating": rating.id, "level": "5"},
                     action=f"/cases/{replied}/rate")
    assert refused.status_code == 403
    staff_page = client.get(f"/cases/{replied}").get_data(as_text=True)
    assert f'action="/cases/{replied}/rate"' not in staff_page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    anonymous = client.post(f"/cases/{replied}/rate", data={"rating": rating.id})
    assert anonymous.status_code in (302, 400, 401)
    assert ratings(database, replied)[0].status is RatingStatus.PENDING


def test_the_case_page_queries_stay_flat(client, database, world, people, login_as):
    """A case with several answers (each rated) costs the page no more queries."""
    citizen, clerk, handler = people
    number = answer(database, world, people)
    login_as("handler")
    counts = []
    for round_ in range(3):
        counts.append(_page_queries(client, database, f"/cases/{number}"))
        with database.app_context():
            rating = db.session.scalar(select(Rating).where(
                Rating.status == RatingStatus.PENDING).order_by(Rating.id.desc()))
            give_rating(rating, RatingInput(4, "yes", {"speed": 4}, "好"), RatingSource.LINK)
            db.session.commit()
        step(database, number, "redo", clerk, note="再核实一下")
        step(database, number, "reply", handler, note=f"第{round_ + 2}次答复")
    counts.append(_page_queries(client, database, f"/cases/{number}"))
    assert max(counts[1:]) == min(counts[1:]), counts


def _page_queries(client, app, url) -> int:
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


# --- the sweep: one reminder, the default rating ------------------------------------------


def configure(app, **values) -> None:
    with app.app_context():
        settings = current_settings()
        for key, value in values.items():
            setattr(settings, key, value)
        db.session.commit()


def sweep_at(app, moment: datetime):
    with time_machine.travel(moment, tick=False), app.app_context():
        return sweep_deadlines()


def test_natural_days_one_reminder_then_the_default(
    client, database, world, people, login_as
):
    citizen = people[0]
    configure(database, remind_after_days=3, default_after_days=7,
              default_working_days=False, default_level=3)
    answered = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
    with time_machine.travel(answered, tick=False):
        number = answer(database, world, people)

    before = len(inbox_bodies(database, citizen))
    assert sweep_at(database, answered + timedelta(days=2)).satisfaction.reminded == []
    first = sweep_at(database, answered + timedelta(days=3, minutes=1))
    second = sweep_at(database, answered + timedelta(days=3, minutes=2))
    assert len(first.satisfaction.reminded) == 1 and second.satisfaction.reminded == []
    bodies = inbox_bodies(database, citizen)[before:]
    assert len(bodies) == 1 and "/rate/" in bodies[0]

    assert sweep_at(database, answered + timedelta(days=6, hours=23)).satisfaction.defaulted == []
    done = sweep_at(database, answered + timedelta(days=7, minutes=1))
    assert len(done.satisfaction.defaulted) == 1
    assert sweep_at(database, answered + timedelta(days=8)).satisfaction.defaulted == []
    (rating,) = ratings(database, number)
    assert (rating.status, rating.level, rating.source) == (
        RatingStatus.DEFAULTED, 3, RatingSource.DEFAULT
    )
    assert len(events(database, number, "rating_defaulted")) == 1

    login_as("supervisor")
    page = client.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "★3 Basically satisfied" in page and "Default rating (no rating given)" in page
    expired = client.get(link_of(bodies[0]), headers=EN)
    assert expired.status_code == 410 and "no longer be rated" in expired.get_data(as_text=True)


def test_working_days_skip_the_weekend_and_a_holiday(database, world, people):
    configure(database, remind_after_days=0, default_after_days=5,
              default_working_days=True, default_level=4)
    with database.app_context():
        db.session.add(CalendarDay(day=date(2026, 12, 7), is_workday=False, name="测试假日"))
        db.session.commit()
    answered = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    with time_machine.travel(answered, tick=False):
        number = answer(database, world, people)
    # 7 natural days later (5 working days without the weekend and the holiday): waiting.
    assert sweep_at(database, answered + timedelta(days=7, hours=8)).satisfaction.defaulted == []
    assert ratings(database, number)[0].status is RatingStatus.PENDING
    assert sweep_at(database, answered + timedelta(days=11)).satisfaction.defaulted
    (rating,) = ratings(database, number)
    assert (rating.status, rating.level, rating.reminded_at) == (RatingStatus.DEFAULTED, 4, None)


def test_no_default_level_leaves_the_answer_unrated(database, world, people):
    configure(database, remind_after_days=0, default_after_days=7,
              default_working_days=False, default_level=None)
    answered = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    with time_machine.travel(answered, tick=False):
        number = answer(database, world, people)
    result = sweep_at(database, answered + timedelta(days=8)).satisfaction
    assert result.defaulted == [] and len(result.unrated) == 1
    (rating,) = ratings(database, number)
    assert (rating.status, rating.level) == (RatingStatus.UNRATED, None)


def test_two_sweeps_at_once_send_one_reminder(database, world, people):
    citizen = people[0]
    configure(database, remind_after_days=3, default_after_days=7,
              default_working_days=False, default_level=3)
    answered = utcnow() - timedelta(days=4)
    with time_machine.travel(answered, tick=False):
        answer(database, world, people)
    before = len(inbox_bodies(database, citizen))
    now = utcnow()
    results = run_together(database, lambda i: remind(now))
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(len(r) for r in results) == 1
    assert len(inbox_bodies(database, citizen)) == before + 1
    with database.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(Rating).where(Rating.reminded_at.is_not(None))
        ) == 1
