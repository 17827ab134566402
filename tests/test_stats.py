"""/stats: the public statistics page — figures on a hand-built fixture, no personal data,
served from the stored figures (the second request costs no figure query; stale figures
are refreshed in the background, never in the visitor's request)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, update

from cases.models import Case
from cases.reports.models import PublicStatsSnapshot
from cases.reports.stats import compute_public_stats, months_shown
from cases.reports.stats_store import forget_public_stats
from cases.satisfaction.models import Rating
from cases.satisfaction.vocabulary import RatingStatus, Solved
from portal.db import db, utcnow
from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_lifecycle import step

ZONE = ZoneInfo("Asia/Shanghai")


def at(day, hours: float) -> datetime:
    """``hours`` after local midnight of ``day``."""
    return datetime.combine(day, time.min, ZONE) + timedelta(hours=hours)


def rate(app, case, department_id, level, solved, when, set_aside=False):
    with app.app_context():
        db.session.add(Rating(
            case_id=case.id, client_id=case.client_id, department_id=department_id,
            status=RatingStatus.RATED, nonce="n" * 32, link_expires_at=when + timedelta(days=7),
            level=level, solved=solved, rated_at=when, set_aside=set_aside,
        ))
        db.session.commit()


@pytest.fixture
def city(database, world):
    """This month: urban leads three cases (signed on time and rated ★5 solved; signed late
    and rated ★2 unsolved; not signed), the service centre answered one at intake (★4
    solved). Last month: transport signed one on time (★3 partly solved; a ★1 set aside on
    appeal)."""
    app = database
    with app.app_context():
        this, last = months_shown()[-1].first, months_shown()[-2].first
    citizen = make_user(app, Role.CITIZEN, name="张秘密")
    urban, transport = world.urban.id, world.transport.id

    clerk = make_user(app, Role.CLERK)
    signers = {dept: make_user(app, Role.HANDLER, department_id=dept)
               for dept in (urban, transport)}

    def filed(day, department, sign_hours=None, reply_hours=None, title="秘密诉求标题"):
        case = make_case(app, citizen, world, title=title)
        if department:
            step(app, case.number, "dispatch", clerk, department=department)
        if sign_hours is not None:
            step(app, case.number, "sign_for", signers[department])
        with app.app_context():  # the timeline and the case dated back to ``day``
            row = db.session.get(Case, case.id)
            for event in row.events:
                event.created_at = at(day, 1 + (sign_hours if event.action == "sign_for" else 0))
            row.created_at = at(day, 1)
            if department:
                row.dispatched_at, row.sign_due_at = at(day, 1), at(day, 5)
            row.replied_at = at(day, 1 + reply_hours) if reply_hours is not None else None
            db.session.commit()
        return case

    good = filed(this, urban, sign_hours=2, reply_hours=10)
    late = filed(this, urban, sign_hours=8, reply_hours=30)
    filed(this, urban)
    intake = filed(this, None, reply_hours=2)
    old = filed(last, transport, sign_hours=1, reply_hours=20)
    rate(app, good, urban, 5, Solved.YES, at(this, 12))
    rate(app, late, urban, 2, Solved.NO, at(this, 32))
    rate(app, intake, None, 4, Solved.YES, at(this, 4))
    rate(app, old, transport, 3, Solved.PARTLY, at(last, 22))
    rate(app, old, transport, 1, Solved.NO, at(last, 23), set_aside=True)
    forget_public_stats(app)
    return world


def test_the_figures_by_month_and_by_department(database, city):
    with database.test_request_context():
        stats = compute_public_stats()
        keys = [month.key() for month in months_shown()]
    months = {row["month"]: row for row in stats["months"]}
    assert list(months) == keys
    this, last = months[keys[-1]], months[keys[-2]]
    assert this == {
        "month": keys[-1], "received": 4, "answered": 3, "median_hours": 10.0,
        "response_rate": round(1 / 3, 4), "resolution_rate": round(2 / 3, 4),
        "satisfaction_rate": round(2 / 3, 4), "rated": 3,
    }
    assert (last["received"], last["answered"], last["median_hours"]) == (1, 1, 20.0)
    assert (last["response_rate"], last["resolution_rate"], last["satisfaction_rate"]) == (
        1.0, 0.0, 1.0)  # partly solved is not solved; the ★1 set aside does not count
    rows = {row["name_en"]: row for row in stats["departments"]}
    urban, transport, centre = rows["Urban Management Bureau"], rows["Transport Bureau"], rows[None]
    assert (urban["received"], urban["answered"], urban["median_hours"]) == (3, 2, 20.0)
    assert (urban["response_rate"], urban["resolution_rate"], urban["satisfaction_rate"]) == (
        round(1 / 3, 4), 0.5, 0.5)
    assert (transport["received"], transport["response_rate"]) == (1, 1.0)
    assert (centre["received"], centre["response_rate"], centre["satisfaction_rate"]) == (
        1, None, 1.0)


def test_anyone_reads_the_page_without_personal_data(client, city):
    response = client.get("/stats", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Urban Management Bureau" in html and "33.3%" in html and "66.7%" in html
    assert "张秘密" not in html and "秘密诉求标题" not in html  # no names, no free text
    assert response.headers["Cache-Control"] == "public, max-age=600"
    etag = response.headers["ETag"]
    again = client.get("/stats", headers={"Accept-Language": "en", "If-None-Match": etag})
    assert again.status_code == 304


# What computing the figures reads: cases, ratings and what is kept of them.
READ = ("cases", "ratings", "rating_months", "daily_case_flows")


def test_the_second_request_computes_nothing(client, database, city):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with database.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/stats").status_code == 200
        first = [s for s in statements if any(t in s for t in READ)]
        statements.clear()
        assert client.get("/stats").status_code == 200
        second = [s for s in statements if any(t in s for t in READ)]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(first) >= 4 and second == []


def test_a_signed_in_reader_gets_the_page_unshared(client, login_as, city):
    login_as(Role.OFFICIAL)
    response = client.get("/stats")
    assert response.status_code == 200
    assert "public" not in response.headers["Cache-Control"]


def test_stale_figures_are_served_and_refreshed_in_the_background(client, database, city):
    from cases.reports import stats_store

    assert client.get("/stats").status_code == 200
    first = client.get("/stats").headers["ETag"]
    with database.app_context():  # stored an hour ago, and a case filed since
        db.session.execute(update(PublicStatsSnapshot).values(
            computed_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    make_case(database, make_user(database, Role.CITIZEN), city)
    with stats_store._refreshing:  # this process is refreshing already: no second thread
        assert client.get("/stats").headers["ETag"] == first
        assert stats_store._threads == []
    stale = client.get("/stats")  # served as stored; one thread computes them again
    assert stale.headers["ETag"] == first
    stats_store.wait_for_refresh()
    fresh = client.get("/stats")
    assert fresh.headers["ETag"] != first
    with database.test_request_context():
        assert stats_store.public_stats().data["months"] == compute_public_stats()["months"]
