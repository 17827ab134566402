"""Hot spots and early warning (issue 13): rising categories and words by district, a planted
spike raising one alert (not twice, not for a normal week), the supervisors told, and the
alert acknowledged with a note by those who may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cases.models import Case
from cases.reports.exports import csv_bytes, xlsx_bytes
from cases.reports.hotspot_alerts import detect_spikes, threshold
from cases.reports.hotspots import rising_categories, rising_words
from cases.reports.models import HotspotAlert
from cases.reports.periods import Period, today
from cases.sweep import sweep_deadlines
from portal.db import db, utcnow
from portal.models import Role, User
from portal.notifications.models import InboxMessage, OutboxMessage
from tests.conftest import csrf_token
from tests.factories import make_case, make_user

SPIKE_TITLE = "冷却塔噪音扰民"
USUAL_TITLE = "道路施工噪音"


def plant(app, world, cases: list[tuple[int, int, int, str]]) -> None:
    """File cases and date them: (hours ago, district id, category id, title)."""
    citizen = make_user(app, Role.CITIZEN)
    now = utcnow()
    for hours, district_id, category_id, title in cases:
        case = make_case(app, citizen, world, district_id=district_id, category_id=category_id,
                         title=title)
        department = world.urban if category_id == world.noise.id else world.transport
        with app.app_context():
            row = db.session.get(Case, case.id)
            row.created_at = now - timedelta(hours=hours)
            row.department_id = department.id
            db.session.commit()


@pytest.fixture
def spike(database, world):
    """8 noise cases in Gulou in the last two days against one a week before; potholes in
    Gulou at their usual pace (2 now, 4 in the four weeks before); one old case so the
    portal has history older than the baseline."""
    g, noise, holes = world.gulou.id, world.noise.id, world.potholes.id
    plant(database, world,
          [(h, g, noise, SPIKE_TITLE) for h in (1, 3, 6, 10, 20, 30, 40, 46)]
          + [(24 * d, g, noise, USUAL_TITLE) for d in (5, 12, 19, 26)]
          + [(h, g, holes, "路面坑洼") for h in (2, 30)]
          + [(24 * d, g, holes, "路面坑洼") for d in (6, 13, 20, 27)]
          + [(24 * 40, world.taijiang.id, holes, "路面坑洼")])
    return world


@pytest.fixture
def supervisor(database):
    return make_user(database, Role.SUPERVISOR, email="watch@example.org",
                     notify_by_email=True, locale="zh_CN")


def alert_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(HotspotAlert))


def test_far_above_needs_five_cases_three_sigmas_and_double():
    assert threshold(0.0) == 5.0  # quiet: the minimum count decides
    assert threshold(4 * 3 / 28) == 5.0  # one a week: 0.43 per 3 days
    assert threshold(6.0) == pytest.approx(6 + 3 * 6 ** 0.5)  # 13.35: the z-score decides
    assert threshold(100.0) == 200.0  # busy: it must double


def test_a_planted_spike_raises_one_alert_and_tells_the_supervisors(database, spike,
                                                                   supervisor):
    with database.app_context():
        [alert] = detect_spikes(utcnow())
        db.session.commit()
        assert (alert.district_id, alert.category_id) == (spike.gulou.id, spike.noise.id)
        assert alert.count == 8
        assert alert.baseline == pytest.approx(0.43)  # 4 cases in 28 days, per 3 days
        assert alert.threshold == 5.0
        assert alert.window_end == today()
        assert alert.window_start == today() - timedelta(days=2)
        # The supervisor hears by inbox and e-mail, about no one case.
        [inbox] = db.session.scalars(
            select(InboxMessage).where(InboxMessage.user_id == supervisor.id)
        ).all()
        assert inbox.case_id is None
        assert "鼓楼区" in inbox.subject and "噪声扰民" in inbox.subject
        assert "8 件" in inbox.body and "/reports/alerts" in inbox.body
        [email] = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "hotspot_alert")
        ).all()
        assert email.address == "watch@example.org" and email.case_id is None
        # A second pass (the next sweep) raises nothing and tells nobody again.
        assert detect_spikes(utcnow()) == []
        db.session.commit()
    assert alert_count(database) == 1


def test_the_sweep_raises_it_once(database, spike, supervisor):
    with database.app_context():
        assert sweep_deadlines().hotspot_alerts == 1
        assert sweep_deadlines().hotspot_alerts == 0
    assert alert_count(database) == 1


def test_a_normal_week_raises_nothing(database, world, supervisor):
    g, noise = world.gulou.id, world.noise.id
    plant(database, world,
          [(h, g, noise, USUAL_TITLE) for h in (5, 30)]
          + [(24 * d, g, noise, USUAL_TITLE) for d in (4, 8, 11, 15, 18, 22, 25, 29)]
          + [(24 * 45, g, noise, USUAL_TITLE)])
    with database.app_context():
        assert detect_spikes(utcnow()) == []
    assert alert_count(database) == 0


def test_no_alert_without_history_older_than_the_baseline(database, world, supervisor):
    plant(database, world, [(h, world.gulou.id, world.noise.id, SPIKE_TITLE)
                            for h in (1, 2, 3, 4, 5, 6)])
    with database.app_context():
        assert detect_spikes(utcnow()) == []


def test_rising_categories_and_words_by_district(database, spike, supervisor):
    with database.app_context():
        reader = db.session.get(User, supervisor.id)
        week = Period.custom(today() - timedelta(days=6), today())
        categories = rising_categories(week, reader)
        rows = {(r.district_id, r.category_id): r for r in categories.rows}
        noise = rows[(spike.gulou.id, spike.noise.id)]
        # 8 spike cases + the one 5 days ago, against one in the week before.
        assert (noise["cases"].value, noise["cases"].previous) == (9, 1)
        assert noise["district"].value == "鼓楼区" and noise.label == "噪声扰民"
        assert categories.rows[0] is noise  # the most risen first
        words = rising_words(week, reader)
        said = {r.word: r["cases"] for r in words.rows if r.district_id == spike.gulou.id}
        assert said["冷却塔"].value == 8 and said["冷却塔"].previous == 0
        assert "问题" not in said and not any(len(w) == 1 for w in said)
        # The exports take them as they are.
        text = csv_bytes(words, "全市", utcnow())
        assert "鼓楼区" in text and "冷却塔" in text
        assert xlsx_bytes(categories, "全市", utcnow())[:2] == b"PK"


def test_a_department_head_reads_their_departments_hot_spots(database, spike):
    head = make_user(database, Role.DEPARTMENT_HEAD, department_id=spike.transport.id)
    with database.app_context():
        reader = db.session.get(User, head.id)
        week = Period.custom(today() - timedelta(days=6), today())
        assert {r.category_id for r in rising_categories(week, reader).rows} == {
            spike.potholes.id
        }
        assert "冷却塔" not in {r.word for r in rising_words(week, reader).rows}


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def raised(database, spike, supervisor):
    with database.app_context():
        [alert] = detect_spikes(utcnow())
        db.session.commit()
        return alert.id


def test_the_dashboard_lists_the_open_alert_and_the_hot_spots(client, raised, login_as):
    login_as(Role.OFFICIAL, locale="en")
    # The last three local days hold the spike, whatever the day of the month (the default
    # period, this month, is empty on the 1st).
    with client.application.app_context():
        last = today()
    page = client.get("/reports", query_string={
        "period": "custom", "from": (last - timedelta(days=2)).isoformat(),
        "to": last.isoformat()})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="alert-{raised}"' in html
    assert f"/reports/alerts/{raised}/acknowledge" in html
    assert "冷却塔" in html  # the rising words


def test_acknowledge_needs_a_note_then_shows_who_and_when(client, raised, login_as):
    user = login_as(Role.SUPERVISOR, locale="en")
    url = f"/reports/alerts/{raised}/acknowledge"
    token = csrf_token(client, "/reports/alerts")
    refused = client.post(url, data={"csrf_token": token, "note": " ", "next": "/reports"})
    assert refused.status_code == 422
    assert "Say what is being done about it." in refused.get_data(as_text=True)
    done = client.post(url, data={"csrf_token": token, "note": "城管已到场整治",
                                  "next": "/reports"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/reports")
    html = client.get("/reports/alerts").get_data(as_text=True)
    assert "城管已到场整治" in html and user.display_name in html
    assert f"/reports/alerts/{raised}/acknowledge" not in html  # no form any more
    # Someone else, a moment later: 409, the first note stays.
    login_as(Role.ADMIN, locale="en")
    token = csrf_token(client, "/reports/alerts")
    assert client.post(url, data={"csrf_token": token, "note": "我也看看"}).status_code == 409
    assert "我也看看" not in client.get("/reports/alerts").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.DEPARTMENT_HEAD, Role.CLERK,
                                  Role.CITIZEN])
def test_only_the_citys_readers_see_and_acknowledge_alerts(client, raised, login_as, role):
    login_as(role)
    assert client.get("/reports/alerts").status_code == 403
    token = csrf_token(client, "/")
    response = client.post(f"/reports/alerts/{raised}/acknowledge",
                           data={"csrf_token": token, "note": "看过了"})
    assert response.status_code == 403


def test_signed_out_readers_are_sent_to_sign_in(client, raised):
    assert client.get("/reports/alerts").status_code == 302


def test_admins_may_reword_the_alert_message(client, login_as):
    login_as(Role.ADMIN, locale="en")
    assert "/admin/message-templates/hotspot_alert/sms/en" in client.get(
        "/admin/message-templates").get_data(as_text=True)
    assert client.get("/admin/message-templates/hotspot_alert/email/zh_CN").status_code == 200


def test_two_processes_at_once_write_one_alert_and_tell_once(database, spike, supervisor):
    from tests.test_sweep import run_together

    def work(_i):
        alerts = detect_spikes(utcnow())
        db.session.commit()
        return len(alerts)

    results = run_together(database, work)
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(results) == [0, 1]
    assert alert_count(database) == 1
    with database.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboxMessage).where(
            InboxMessage.user_id == supervisor.id)) == 1


def test_the_command_raises_the_alert_once(database, spike, supervisor):
    first = database.test_cli_runner().invoke(args=["cases", "hotspots"])
    assert first.exit_code == 0 and "hot-spot alerts: 1 new" in first.output
    again = database.test_cli_runner().invoke(args=["cases", "hotspots"])
    assert "hot-spot alerts: 0 new" in again.output
