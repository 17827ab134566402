"""Daily and monthly totals of filings (cases.reports.totals) always equal the live count
of cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from cases.models import Case, CaseType, Category, Channel
from cases.reports.models import DailyCaseTotal, MonthlyCaseTotal
from cases.reports.periods import Period
from cases.reports.totals import local_day, rebuild_totals, received, received_count
from cases.services import CaseRequest, file_case
from citizens.models import Client
from portal.db import db
from portal.models import Role, User
from tests.factories import make_case, make_user
from tests.test_sweep import set_case


def totals(app) -> dict[tuple, int]:
    """The kept totals, without rows that count nothing."""
    with app.app_context():
        rows = db.session.execute(select(
            DailyCaseTotal.day, DailyCaseTotal.category_id, DailyCaseTotal.district_id,
            DailyCaseTotal.channel, DailyCaseTotal.type, DailyCaseTotal.received,
        )).all()
    return {tuple(r[:5]): r[5] for r in rows if r[5]}


def month_totals(app) -> dict[tuple, int]:
    """The kept monthly totals, without rows that count nothing."""
    with app.app_context():
        m = MonthlyCaseTotal
        rows = db.session.execute(select(
            m.month, m.category_id, m.district_id, m.channel, m.type, m.received)).all()
    return {tuple(r[:5]): r[5] for r in rows if r[5]}


def by_month(daily: dict[tuple, int]) -> dict[tuple, int]:
    found: Counter = Counter()
    for (day, *keys), n in daily.items():
        found[(day.replace(day=1), *keys)] += n
    return dict(found)


def assert_kept_equal_live(app) -> None:
    expected = live(app)
    assert totals(app) == expected
    assert month_totals(app) == by_month(expected)


def live(app) -> dict[tuple, int]:
    """The same figures counted from the cases now."""
    with app.app_context():
        found: dict[tuple, int] = {}
        for case in db.session.scalars(select(Case)):
            key = (local_day(case.created_at), case.category_id, case.district_id,
                   case.channel.value, case.type.value)
            found[key] = found.get(key, 0) + 1
        return found


def test_totals_follow_every_filing_and_equal_the_live_count(database, world):
    citizen = make_user(database, Role.CITIZEN)
    first = make_case(database, citizen, world)
    # Two cases filed in one transaction count twice in the same total.
    with database.app_context():
        user = db.session.get(User, citizen.id)
        client = db.session.get(Client, user.client_id)
        for title in ("路灯不亮一", "路灯不亮二"):
            file_case(client, user, CaseRequest(
                type=CaseType.HELP, category_id=world.potholes.id, title=title,
                description="夜里看不见路。", district_id=world.taijiang.id,
                channel=Channel.PHONE,
            ))
        db.session.commit()
    # Filed at 23:59:59 and at 00:00:00 local time (Asia/Shanghai, UTC+8): two days.
    before = make_case(database, citizen, world)
    after = make_case(database, citizen, world)
    set_case(database, before.number, created_at=datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC))
    set_case(database, after.number, created_at=datetime(2026, 3, 31, 16, 0, 0, tzinfo=UTC))

    kept = totals(database)
    assert_kept_equal_live(database)
    assert sum(kept.values()) == 5
    noise, potholes = world.noise.id, world.potholes.id
    assert kept[(date(2026, 3, 31), noise, world.gulou.id, "web", "complaint")] == 1
    assert kept[(date(2026, 4, 1), noise, world.gulou.id, "web", "complaint")] == 1
    with database.app_context():
        today = local_day(db.session.get(Case, first.id).created_at)
    assert kept[(today, potholes, world.taijiang.id, "phone", "help")] == 2

    # Corrected at intake (type and category): the count moves with the case.
    with database.app_context():
        case = db.session.get(Case, first.id)
        case.type = CaseType.ENQUIRY
        case.category = db.session.get(Category, potholes)  # as classify_case does
        db.session.commit()
    assert_kept_equal_live(database)

    # Volumes over a period read the totals: whole months the monthly ones, the days at
    # the ends the daily ones.
    with database.app_context():
        assert received_count(Period.month(2026, 3)) == 1
        assert received_count(Period.month(2026, 4)) == 1
        assert received(Period.custom(date(2026, 3, 1), date(2026, 4, 30)), by="day") == {
            date(2026, 3, 31): 1, date(2026, 4, 1): 1,
        }
        assert received_count(Period.custom(date(2026, 3, 31), date(2026, 4, 1))) == 2
        assert received_count(Period.custom(date(2026, 3, 31), date(2026, 4, 30))) == 2
        assert received_count(Period.custom(date(2026, 3, 1), date(2026, 4, 29))) == 2
        assert received_count(Period.custom(date(2026, 4, 2), date(2026, 4, 30))) == 0
        year = Period.containing("year", date(2026, 6, 1))
        expected = Counter({date(2026, 3, 1): 1, date(2026, 4, 1): 1})
        if today.year == 2026:
            expected[today.replace(day=1)] += 3
        assert received(year, by="month") == dict(expected)
        assert received(year, by="district_id")[world.gulou.id] == 2 + (today.year == 2026)
        assert received_count(year, channel="phone") == (2 if today.year == 2026 else 0)

    # A case removed (a test's clean-up, an erasure) leaves its total.
    with database.app_context():
        db.session.delete(db.session.get(Case, before.id))
        db.session.commit()
    assert_kept_equal_live(database)


def test_rebuild_recomputes_the_totals_from_the_cases(database, world):
    citizen = make_user(database, Role.CITIZEN)
    for _ in range(3):
        make_case(database, citizen, world)
    late = make_case(database, citizen, world)
    set_case(database, late.number, created_at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
    expected = live(database)
    with database.app_context():  # totals gone astray (a bulk load without them)
        db.session.execute(DailyCaseTotal.__table__.update().values(received=7))
        db.session.execute(MonthlyCaseTotal.__table__.update().values(received=7))
        db.session.commit()
    assert totals(database) != expected
    assert month_totals(database) != by_month(expected)

    result = database.test_cli_runner().invoke(args=["reports", "rebuild-totals"])
    assert result.exit_code == 0, result.output
    assert_kept_equal_live(database)
    assert (date(2026, 1, 1), world.noise.id, world.gulou.id, "web", "complaint") in expected
    with database.app_context():
        assert rebuild_totals() == len(expected) + len(by_month(expected))
        db.session.commit()
        assert db.session.scalar(select(func.sum(DailyCaseTotal.received))) == 4
        assert db.session.scalar(select(func.sum(MonthlyCaseTotal.received))) == 4
