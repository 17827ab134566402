"""The monthly counts of ratings (cases.reports.rating_months) follow every way a rating is
written, and 三率's counts read from them equal the live count over ``ratings``."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from cases.models import Case
from cases.reports import rating_months
from cases.reports.figures_rates import rating_counts, rating_rows
from cases.reports.models import RatingMonth, ReportSettings
from cases.reports.periods import Period, today, whole_months
from cases.satisfaction.models import Rating
from cases.satisfaction.services import RatingInput, give_rating
from cases.satisfaction.sweep import apply_defaults
from cases.satisfaction.vocabulary import RatingSource, RatingStatus, Solved
from portal.db import db, utcnow
from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_report_figures import at, desk  # noqa: F401 (fixture)


def kept() -> Counter:
    rows = db.session.execute(select(
        RatingMonth.month, RatingMonth.department_id, RatingMonth.status, RatingMonth.level,
        RatingMonth.solved, RatingMonth.n)).all()
    return Counter({tuple(r[:5]): r[5] for r in rows if r[5]})


def live() -> Counter:
    return Counter({k: n for k, n in
                    rating_months.live_rating_months(db.session.connection()).items() if n})


def counted_live(period: Period, settings: ReportSettings) -> dict:
    return {dep: tuple(int(v or 0) for v in counts) for dep, *counts in
            db.session.execute(rating_counts(*period.bounds(), settings))}


def counted_kept(period: Period, settings: ReportSettings) -> dict:
    return {dep: tuple(counts) for dep, *counts in rating_rows(period, settings)}


PERIODS = [
    Period.month(2026, 3), Period.month(2026, 4), Period.containing("year", date(2026, 3, 1)),
    Period.containing("quarter", date(2026, 3, 1)), Period.containing("week", date(2026, 3, 4)),
    Period.containing("day", date(2026, 3, 2)), Period.custom(date(2026, 2, 20),
                                                              date(2026, 4, 10)),
    Period.custom(date(2026, 3, 1), date(2026, 4, 15)), Period.custom(date(2026, 2, 15),
                                                                      date(2026, 3, 31)),
]
RULES = [
    {},
    {"count_defaulted": False},
    {"partly_counts_as_solved": True, "satisfied_from_level": 4},
    {"count_defaulted": False, "satisfied_from_level": 2},
]


def test_whole_months_of_a_period():
    months = whole_months
    assert months(Period.month(2026, 2)) == (date(2026, 2, 1), date(2026, 3, 1))
    assert months(Period.containing("year", date(2026, 5, 5))) == (date(2026, 1, 1),
                                                                   date(2027, 1, 1))
    assert months(Period.custom(date(2026, 2, 20), date(2026, 4, 10))) == (date(2026, 3, 1),
                                                                           date(2026, 4, 1))
    assert months(Period.custom(date(2026, 2, 2), date(2026, 3, 30))) is None
    assert months(Period.containing("week", date(2026, 3, 4))) is None
    assert months(Period.custom(date(2026, 12, 1), date(2026, 12, 31))) == (
        date(2026, 12, 1), date(2027, 1, 1))


def test_the_kept_counts_equal_the_live_ones(database, desk):  # noqa: F811 (the fixture)
    with database.app_context():
        assert kept() == live() and sum(kept().values()) > 0
        for values in RULES:
            settings = ReportSettings(**{"count_defaulted": True, "partly_counts_as_solved":
                                         False, "satisfied_from_level": 3, **values})
            for period in PERIODS:
                assert counted_kept(period, settings) == counted_live(period, settings), (
                    period, values)


def _rated(database, world, number_of: int = 2) -> list[str]:
    """Cases answered by the urban department, each waiting for its rating."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    numbers = []
    for _ in range(number_of):
        number = make_case(database, citizen, world).number
        step(database, number, "dispatch", clerk, department=world.urban.id)
        step(database, number, "sign_for", handler)
        step(database, number, "reply", handler, note="已处理完毕")
        numbers.append(number)
    return numbers


def _rating(number: str) -> Rating:
    case_id = db.session.scalar(select(Case.id).where(Case.number == number))
    return db.session.scalar(select(Rating).where(Rating.case_id == case_id)
                             .order_by(Rating.id.desc()))


def test_every_writer_keeps_them(database, world):
    first, second = _rated(database, world)
    with database.app_context():
        assert kept() == live() == Counter()  # asked, not given: nothing counts
        # Given through the service (an ORM-enabled UPDATE … WHERE status = pending).
        give_rating(_rating(first), RatingInput(4, "partly", {}, None), RatingSource.LINK)
        db.session.commit()
        assert kept() == live() and sum(kept().values()) == 1
        # Defaulted by the sweep (a conditional UPDATE per rating).
        late = _rating(second)
        late.default_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert apply_defaults(utcnow())[0] == [late.id]
        assert kept() == live() and sum(kept().values()) == 2
        # Set aside on appeal, by the ORM, on an expired instance (after the commit).
        given = _rating(first)
        db.session.commit()
        given.set_aside = True
        db.session.commit()
        assert kept() == live() and sum(kept().values()) == 1
        # Its month's row now counts nothing: read, it is no department's, as live.
        settings = ReportSettings(count_defaulted=True, partly_counts_as_solved=False,
                                  satisfied_from_level=3)
        this_month = Period.containing("month", today())
        assert counted_kept(this_month, settings) == counted_live(this_month, settings)
        assert world.urban.id in counted_kept(this_month, settings)  # the defaulted one
        # Moved to another month by the ORM (the demo dates its ratings back).
        defaulted = _rating(second)
        defaulted.rated_at = datetime(2025, 7, 15, 3, tzinfo=UTC)
        db.session.commit()
        assert kept() == live() and {k[0] for k in kept()} == {date(2025, 7, 1)}
        # A Core-style bulk insert with its rows (an import of history) ...
        case_id = db.session.scalar(select(Case.id).where(Case.number == first))
        client_id = db.session.scalar(select(Case.client_id).where(Case.id == case_id))
        rows = [{"case_id": case_id, "client_id": client_id, "department_id": world.urban.id,
                 "status": RatingStatus.RATED, "nonce": secrets.token_hex(8),
                 "requested_at": at(3, d), "link_expires_at": at(3, d), "level": level,
                 "solved": Solved.YES, "rated_at": at(3, d)}
                for d, level in ((3, 5), (4, 1), (31, 2))]
        db.session.execute(insert(Rating.__table__), rows)
        db.session.commit()
        assert kept() == live() and sum(kept().values()) == 4
        # ... an UPDATE of many by a condition, and a DELETE (an import taken back).
        db.session.execute(update(Rating).where(Rating.case_id == case_id)
                           .values(department_id=world.transport.id)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        assert kept() == live()
        assert {k[1] for k in kept() if k[0] == date(2026, 3, 1)} == {world.transport.id}
        db.session.execute(delete(Rating).where(Rating.case_id == case_id)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        assert kept() == live() and sum(kept().values()) == 1
        # March's rows are there and count nothing: read, no department has them, as live.
        assert counted_kept(Period.month(2026, 3), settings) == {} == counted_live(
            Period.month(2026, 3), settings)
        # Deleted by the ORM.
        db.session.delete(_rating(second))
        db.session.commit()
        assert kept() == live() == Counter()


def test_a_rolled_back_write_leaves_them_as_they_were(database, world):
    (number,) = _rated(database, world, 1)
    with database.app_context():
        give_rating(_rating(number), RatingInput(5, "yes", {}, None), RatingSource.LINK)
        db.session.rollback()
        assert kept() == live() == Counter()


def test_an_insert_it_cannot_count_is_refused(database, world):
    (number,) = _rated(database, world, 1)
    with database.app_context():
        pending = _rating(number)
        statement = insert(Rating).from_select(
            [c.name for c in Rating.__table__.columns if c.name != "id"],
            select(*(c for c in Rating.__table__.columns if c.name != "id"))
            .where(Rating.id == pending.id))
        with pytest.raises(RuntimeError, match="rating_months"):
            db.session.execute(statement)
        db.session.rollback()


def test_the_command_rebuilds_them(database, desk):  # noqa: F811 (the fixture)
    with database.app_context():
        expected = live()
        db.session.execute(delete(RatingMonth))
        db.session.add(RatingMonth(month=date(2020, 1, 1), department_id=0, status="rated",
                                   level=5, solved="", n=7))
        db.session.commit()
    result = database.test_cli_runner().invoke(args=["reports", "rebuild-totals"])
    assert result.exit_code == 0 and "monthly rating counts" in result.output
    with database.app_context():
        assert kept() == expected
