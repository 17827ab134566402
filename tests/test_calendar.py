"""The working-day calendar: pure arithmetic on hand-built calendars, the holidays
library's China data, and the database services (seeding, admin edits, loading)."""

from __future__ import annotations

import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cases.calendar import (
    WorkingCalendar,
    china_public_calendar,
    invalidate_calendar,
    library_source,
    load_calendar,
    mark_year_published,
    remove_calendar_day,
    seed_calendar,
    set_calendar_day,
)
from cases.models import CalendarDay, CalendarYear, TimeUnit
from portal.db import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAIN = WorkingCalendar()

# The 2026 Spring Festival as the State Council published it: days off on the weekdays
# Mon 02-16 .. Fri 02-20 and Mon 02-23; Saturdays 02-14 and 02-28 are worked.
SPRING_2026 = {
    date(2026, 2, 14): True,
    date(2026, 2, 16): False,
    date(2026, 2, 17): False,
    date(2026, 2, 18): False,
    date(2026, 2, 19): False,
    date(2026, 2, 20): False,
    date(2026, 2, 23): False,
    date(2026, 2, 28): True,
}
SPRING = WorkingCalendar(exceptions=SPRING_2026, published_years=frozenset({2026}))


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def same_instant(result: datetime, expected: datetime) -> None:
    assert result.tzinfo is UTC
    assert result == expected, f"{result.astimezone(SHANGHAI)} != {expected}"


# --- The plain week ---------------------------------------------------------------------


def test_defaults_and_minutes_per_day():
    assert PLAIN.day_start == time(9) and PLAIN.day_end == time(17)
    assert PLAIN.tz == SHANGHAI
    assert PLAIN.minutes_per_day == 480
    assert WorkingCalendar(day_start=time(8, 30), day_end=time(17, 30)).minutes_per_day == 540


def test_is_workday_plain_week_and_exceptions():
    assert [PLAIN.is_workday(date(2026, 3, d)) for d in range(2, 9)] == [True] * 5 + [False] * 2
    assert SPRING.is_workday(date(2026, 2, 14))  # a Saturday worked
    assert not SPRING.is_workday(date(2026, 2, 17))  # a Tuesday off
    assert SPRING.is_workday(date(2026, 2, 24))


def test_calendar_is_immutable_and_validated():
    exceptions = {date(2026, 3, 2): False}
    calendar = WorkingCalendar(exceptions=exceptions)
    exceptions[date(2026, 3, 3)] = False  # the caller's dict is copied
    assert calendar.is_workday(date(2026, 3, 3))
    with pytest.raises(TypeError):
        calendar.exceptions[date(2026, 3, 4)] = False  # type: ignore[index]
    with pytest.raises(ValueError, match="start before"):
        WorkingCalendar(day_start=time(17), day_end=time(9))


def test_within_one_day():
    same_instant(PLAIN.add_working_minutes(at(2026, 3, 2, 10), 90), at(2026, 3, 2, 11, 30))


def test_running_out_at_the_end_of_the_day_is_that_days_end():
    same_instant(PLAIN.add_working_minutes(at(2026, 3, 2, 9), 480), at(2026, 3, 2, 17))
    same_instant(PLAIN.add_working_minutes(at(2026, 3, 2, 9), 481), at(2026, 3, 3, 9, 1))


def test_across_a_weekend():
    friday = at(2026, 3, 6, 16)
    same_instant(PLAIN.add_working_minutes(friday, 120), at(2026, 3, 9, 10))
    assert PLAIN.working_minutes_between(friday, at(2026, 3, 9, 10)) == 120


def test_hours_versus_days():
    monday = at(2026, 3, 2, 10)
    same_instant(PLAIN.add(monday, 3, "days"), at(2026, 3, 5, 10))
    same_instant(PLAIN.add(monday, 3, TimeUnit.DAYS), at(2026, 3, 5, 10))
    same_instant(PLAIN.add(monday, 3, "hours"), at(2026, 3, 2, 13))
    same_instant(PLAIN.add(monday, 8, TimeUnit.HOURS), at(2026, 3, 3, 10))
    same_instant(PLAIN.add(monday, 7, TimeUnit.HOURS), at(2026, 3, 2, 17))
    with pytest.raises(ValueError):
        PLAIN.add(monday, 1, "weeks")


def test_sixty_working_days_is_fast():
    started = clock.perf_counter()
    # 60 working days from Monday morning: twelve plain weeks, to Friday evening.
    same_instant(PLAIN.add(at(2026, 3, 2, 9), 60, "days"), at(2026, 5, 22, 17))
    PLAIN.add(at(2026, 3, 2, 9), 2600, "days")  # about ten years
    assert clock.perf_counter() - started < 0.5


# --- Starts outside working time ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 2, 7, 30), at(2026, 3, 2, 10)),  # before 09:00
        (at(2026, 3, 2, 17), at(2026, 3, 3, 10)),  # exactly 17:00
        (at(2026, 3, 2, 18), at(2026, 3, 3, 10)),  # after 17:00
        (at(2026, 3, 6, 20), at(2026, 3, 9, 10)),  # Friday night
        (at(2026, 3, 8, 11), at(2026, 3, 9, 10)),  # on a Sunday
    ],
)
def test_start_outside_working_time(start, expected):
    same_instant(PLAIN.add_working_minutes(start, 60), expected)


def test_start_on_a_holiday():
    same_instant(SPRING.add_working_minutes(at(2026, 2, 17, 11), 60), at(2026, 2, 24, 10))


def test_zero_minutes_normalises_the_start():
    same_instant(PLAIN.add_working_minutes(at(2026, 3, 8, 11), 0), at(2026, 3, 9, 9))
    same_instant(PLAIN.add_working_minutes(at(2026, 3, 2, 11, 15), 0), at(2026, 3, 2, 11, 15))
    same_instant(SPRING.add_working_minutes(at(2026, 2, 15, 12), 0), at(2026, 2, 24, 9))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        PLAIN.add_working_minutes(datetime(2026, 3, 2, 10), 60)
    with pytest.raises(ValueError, match="negative"):
        PLAIN.add_working_minutes(at(2026, 3, 2, 10), -1)


# --- The 2026 Spring Festival -----------------------------------------------------------------


def test_hand_built_spring_festival_matches_the_library():
    days, published = china_public_calendar(2026)
    assert published
    february = {d: w for d, (w, _) in days.items() if d.month == 2}
    assert february == SPRING_2026


def test_make_up_saturday_is_worked():
    # Friday before the festival, late afternoon: the Saturday 02-14 is a working day.
    same_instant(SPRING.add_working_minutes(at(2026, 2, 13, 16), 120), at(2026, 2, 14, 10))
    # From the make-up Saturday, the next working day is Tuesday 02-24.
    same_instant(SPRING.add_working_minutes(at(2026, 2, 14, 16), 120), at(2026, 2, 24, 10))
    same_instant(SPRING.add(at(2026, 2, 14, 10), 1, "days"), at(2026, 2, 24, 10))
    # Friday 02-27 runs on into the make-up Saturday 02-28.
    same_instant(SPRING.add_working_minutes(at(2026, 2, 27, 16), 120), at(2026, 2, 28, 10))


def test_across_the_spring_festival():
    # 13th, 14th, then 24th..26th: five working days, ending on Thursday evening.
    same_instant(SPRING.add(at(2026, 2, 13, 9), 5, "days"), at(2026, 2, 26, 17))
    # A plain week would have ended on Thursday 02-19.
    same_instant(PLAIN.add(at(2026, 2, 13, 9), 5, "days"), at(2026, 2, 19, 17))
    # Working days 13, 14, 24, 25, 26, 27, 28 before Monday 03-02.
    assert SPRING.working_minutes_between(at(2026, 2, 13), at(2026, 3, 2)) == 7 * 480
    assert PLAIN.working_minutes_between(at(2026, 2, 13), at(2026, 3, 2)) == 11 * 480


# --- Time zones -------------------------------------------------------------------------------


def test_input_in_utc_and_other_zones():
    monday_9_in_utc = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    same_instant(
        PLAIN.add_working_minutes(monday_9_in_utc, 60), datetime(2026, 3, 2, 2, tzinfo=UTC)
    )
    # 23:30 UTC on Sunday is 07:30 on Monday in Shanghai: before working hours.
    sunday_night = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    same_instant(PLAIN.add_working_minutes(sunday_night, 0), at(2026, 3, 2, 9))
    new_york = timezone(timedelta(hours=-5))
    same_instant(
        PLAIN.add_working_minutes(datetime(2026, 3, 1, 21, 0, tzinfo=new_york), 30),
        at(2026, 3, 2, 10, 30),
    )
    assert PLAIN.working_minutes_between(monday_9_in_utc, at(2026, 3, 2, 12)) == 180


def test_other_calendar_time_zone():
    utc_calendar = WorkingCalendar(tz=ZoneInfo("UTC"))
    start = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    same_instant(utc_calendar.add_working_minutes(start, 120), datetime(2026, 3, 3, 10, tzinfo=UTC))


# --- working_minutes_between ----------------------------------------------------------------


def test_between_edge_cases():
    assert PLAIN.working_minutes_between(at(2026, 3, 3), at(2026, 3, 2)) == 0
    assert PLAIN.working_minutes_between(at(2026, 3, 2, 12), at(2026, 3, 2, 12)) == 0
    assert PLAIN.working_minutes_between(at(2026, 3, 7), at(2026, 3, 8, 23)) == 0  # weekend
    assert PLAIN.working_minutes_between(at(2026, 3, 2, 0), at(2026, 3, 3, 0)) == 480


def test_between_is_the_inverse_of_add_for_random_inputs():
    days, _ = china_public_calendar(2026)
    calendar = WorkingCalendar(exceptions={d: w for d, (w, _) in days.items()})
    rng = random.Random(20261123)
    first = datetime(2025, 12, 20, tzinfo=SHANGHAI)
    for _ in range(300):
        start = first + timedelta(minutes=rng.randrange(400 * 24 * 60), seconds=rng.randrange(60))
        minutes = rng.choice([0, 1, rng.randrange(480), rng.randrange(40 * 480)])
        end = calendar.add_working_minutes(start, minutes)
        assert end >= start
        assert calendar.working_minutes_between(start, end) == minutes, (start, minutes)
        # And the other way round: the minutes between two moments lead back to the later
        # one, or to the working moment it stands for (a Sunday stands for Monday 09:00).
        later = start + timedelta(minutes=rng.randrange(30 * 24 * 60))
        counted = calendar.working_minutes_between(start, later)
        back = calendar.add_working_minutes(start, counted)
        assert back <= calendar.add_working_minutes(later, 0)
        assert calendar.working_minutes_between(back, later) == 0


def test_unpublished_years():
    assert SPRING.unpublished_years(date(2026, 11, 23), date(2027, 3, 1)) == [2027]
    assert SPRING.unpublished_years(date(2026, 1, 1), date(2026, 12, 31)) == []
    assert PLAIN.unpublished_years(date(2025, 6, 1), date(2027, 1, 1)) == [2025, 2026, 2027]


# --- The holidays library ---------------------------------------------------------------------


@pytest.mark.parametrize(("year", "published"), [(2024, True), (2025, True), (2026, True)])
def test_published_years_have_make_up_days(year, published):
    days, flag = china_public_calendar(year)
    assert flag is published
    make_up = [d for d, (w, _) in days.items() if w]
    assert make_up and all(d.weekday() >= 5 for d in make_up)
    assert all(d.weekday() < 5 for d, (w, _) in days.items() if not w)
    assert all(d.year == year for d in days)


def test_2027_is_not_published_yet():
    days, published = china_public_calendar(2027)
    assert not published
    assert not any(w for w, _ in days.values())  # rule-based dates only
    assert days[date(2027, 10, 1)] == (False, "国庆节")


def test_library_names_are_chinese():
    days, _ = china_public_calendar(2026)
    assert days[date(2026, 2, 17)] == (False, "春节")
    assert days[date(2026, 2, 14)] == (True, "春节调休上班日")
    assert days[date(2026, 1, 4)] == (True, "元旦调休上班日")
    days_2025, _ = china_public_calendar(2025)
    assert days_2025[date(2025, 10, 11)] == (True, "国庆节、中秋节调休上班日")


def test_make_up_day_announced_with_the_next_year():
    # Tuesday 2012-01-03 was taken off for Saturday 2011-12-31.
    days_2011, _ = china_public_calendar(2011)
    assert days_2011[date(2011, 12, 31)] == (True, "元旦调休上班日")
    days_2012, _ = china_public_calendar(2012)
    assert days_2012[date(2012, 1, 3)][0] is False
    assert date(2011, 12, 31) not in days_2012


# --- The database -----------------------------------------------------------------------------


def rows(year: int) -> dict[date, tuple[bool, str, str]]:
    found = db.session.scalars(
        select(CalendarDay).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
        )
    )
    return {r.day: (r.is_workday, r.name, r.source) for r in found}


def test_seed_calendar_seeds_published_years_only(database):
    with database.app_context():
        assert seed_calendar([2027, 2026]) == [2026]
        db.session.commit()
    with database.app_context():
        seeded = rows(2026)
        library, _ = china_public_calendar(2026)
        assert {d: (w, n) for d, (w, n, _) in seeded.items()} == library
        assert {s for _, _, s in seeded.values()} == {"library"}
        assert rows(2027) == {}
        years = db.session.scalars(select(CalendarYear)).all()
        assert [(y.year, y.source) for y in years] == [(2026, library_source())]
        assert library_source() == "holidays 0.109"
        assert years[0].loaded_at.tzinfo is UTC


def test_admin_rows_survive_a_reseed(database):
    with database.app_context():
        seed_calendar([2026])
        # The admin overrules the library on one day and adds a day of their own.
        set_calendar_day(date(2026, 2, 23), True, "  按本市通知上班  ")
        set_calendar_day(date(2026, 12, 31), False, "本市停工")
        # Someone tampers with a library row, and another disappears.
        db.session.get(CalendarDay, date(2026, 2, 17)).name = "tampered"
        remove_calendar_day(date(2026, 2, 18))
        remove_calendar_day(date(2026, 7, 1))  # nothing there: nothing happens
        db.session.commit()
    with database.app_context():
        assert seed_calendar([2026]) == [2026]
        db.session.commit()
    with database.app_context():
        seeded = rows(2026)
        assert seeded[date(2026, 2, 23)] == (True, "按本市通知上班", "admin")
        assert seeded[date(2026, 12, 31)] == (False, "本市停工", "admin")
        assert seeded[date(2026, 2, 17)] == (False, "春节", "library")
        assert seeded[date(2026, 2, 18)] == (False, "春节", "library")
        library, _ = china_public_calendar(2026)
        assert len(seeded) == len(library) + 1


def test_set_calendar_day_refuses_long_names(database):
    with database.app_context(), pytest.raises(ValueError, match="100"):
        set_calendar_day(date(2026, 3, 2), False, "节" * 101)


def test_load_calendar_reflects_rows_and_is_cached(database, monkeypatch):
    with database.app_context():
        seed_calendar([2026, 2027])
        calendar = load_calendar()
        assert load_calendar() is calendar  # once per app context
        assert calendar.is_workday(date(2026, 2, 14))
        assert not calendar.is_workday(date(2026, 2, 17))
        assert calendar.published_years == {2026}
        assert calendar.unpublished_years(date(2026, 11, 23), date(2027, 3, 1)) == [2027]
        assert (calendar.day_start, calendar.day_end, calendar.minutes_per_day) == (
            time(9),
            time(17),
            480,
        )
        assert calendar.tz == SHANGHAI

        set_calendar_day(date(2026, 3, 2), False, "停电")  # invalidates the cache
        edited = load_calendar()
        assert edited is not calendar
        assert not edited.is_workday(date(2026, 3, 2))

        mark_year_published(2027)
        assert load_calendar().unpublished_years(date(2026, 1, 1), date(2027, 12, 31)) == []
        year = db.session.get(CalendarYear, 2027)
        assert year.source == "admin"

        only_2027 = load_calendar([2027])
        assert only_2027.exceptions == {}
        assert only_2027.published_years == {2027}
        assert load_calendar([]).published_years == frozenset()
        db.session.commit()

    with database.app_context():
        monkeypatch.setitem(database.config, "WORKDAY_START", "08:30")
        monkeypatch.setitem(database.config, "WORKDAY_END", "17:30")
        assert load_calendar().minutes_per_day == 540
        invalidate_calendar()
        monkeypatch.delitem(database.config, "WORKDAY_START")
        monkeypatch.delitem(database.config, "WORKDAY_END")
        calendar = load_calendar()
        assert (calendar.day_start, calendar.day_end) == (time(9), time(17))
        assert not calendar.is_workday(date(2026, 3, 2))  # committed rows
        assert calendar.published_years == {2026, 2027}


def test_empty_database_counts_plain_weekends(database):
    with database.app_context():
        calendar = load_calendar()
        assert calendar.exceptions == {}
        assert calendar.unpublished_years(date(2026, 11, 23), date(2027, 1, 31)) == [2026, 2027]
        same_instant(calendar.add(at(2026, 2, 13, 10), 1, "days"), at(2026, 2, 16, 10))
