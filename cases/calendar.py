"""The working-day calendar behind deadlines (办理时限).

A working day is Monday to Friday, except for the dates in ``calendar_days``: a holiday
that falls on a weekday (``is_workday=False``) or a make-up working day (调休) on a weekend
(``is_workday=True``). Working time is ``[WORKDAY_START, WORKDAY_END)`` of each working
day, in the portal's ``TIMEZONE``.

The State Council publishes each year's schedule late in the year before. A year is
*published* when it has a ``calendar_years`` row; other years count plain weekends only,
never fail, and :meth:`WorkingCalendar.unpublished_years` tells the admin which.

:class:`WorkingCalendar` is pure (no database, no Flask); :func:`load_calendar` builds it
from the database once per app context. The services at the bottom (seeding from the
``holidays`` library, read in ``cases.holiday_library``, and the admin's edits) flush and
never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from sqlalchemy import false, select

from cases.holiday_library import NAME_LENGTH, china_public_calendar, library_source
from cases.models import CalendarDay, CalendarYear, TimeUnit
from portal.db import db, utcnow
from portal.refdata import cached, refresh, register_models

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_DAY_START = time(9, 0)
DEFAULT_DAY_END = time(17, 0)
LIBRARY = "library"
ADMIN = "admin"
_CACHE_KEY = "_working_calendars"
_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and hours: plain Mon–Fri plus the ``exceptions`` (date → is_workday)."""

    exceptions: Mapping[date, bool] = field(default_factory=dict)
    published_years: frozenset[int] = frozenset()
    day_start: time = DEFAULT_DAY_START
    day_end: time = DEFAULT_DAY_END
    tz: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)

    def __post_init__(self) -> None:
        if self.day_start >= self.day_end:
            raise ValueError("the working day must start before it ends")
        # A read-only copy: the calendar is shared by everything in one request.
        object.__setattr__(self, "exceptions", MappingProxyType(dict(self.exceptions)))
        object.__setattr__(self, "published_years", frozenset(self.published_years))

    @property
    def minutes_per_day(self) -> int:
        """Working minutes in one working day (480 for 09:00–17:00)."""
        return int(self._day_length // _ONE_MINUTE)

    @property
    def _day_length(self) -> timedelta:
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day: its exception if there is one, else Mon–Fri."""
        if isinstance(d, datetime):
            d = d.date()
        found = self.exceptions.get(d)
        return d.weekday() < 5 if found is None else found

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d += _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` working minutes after ``start``, in UTC.

        ``start`` is timezone-aware (any zone); working time is reckoned in ``tz``. A start
        outside working time begins at the next working moment, so ``minutes=0`` gives the
        normalised start. Running out exactly at the end of a working day gives that day's
        ``day_end`` (17:00), not the next morning. The walk jumps day by day.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = timedelta(minutes=minutes)
        moment = self._normalise(self._local(start))
        while True:
            available = datetime.combine(moment.date(), self.day_end) - moment
            if remaining <= available:
                return self._utc(moment + remaining)
            remaining -= available
            moment = datetime.combine(self.next_workday(moment.date()), self.day_start)

    def working_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole working minutes in ``[a, b)``; 0 when ``b <= a``."""
        start, end = self._local(a), self._local(b)
        if end <= start:
            return 0
        total = timedelta(0)
        d = start.date()
        while d <= end.date():
            if self.is_workday(d):
                lo = max(start, datetime.combine(d, self.day_start))
                hi = min(end, datetime.combine(d, self.day_end))
                if hi > lo:
                    total += hi - lo
            d += _ONE_DAY
        return int(total // _ONE_MINUTE)

    def add(self, start: datetime, amount: int, unit: str | TimeUnit) -> datetime:
        """``amount`` working hours or working days after ``start``, in UTC.

        A working day is :attr:`minutes_per_day` working minutes, so three days from
        Monday 10:00 is Thursday 10:00 in a plain week.
        """
        unit = TimeUnit(unit)
        per_unit = 60 if unit is TimeUnit.HOURS else self.minutes_per_day
        return self.add_working_minutes(start, amount * per_unit)

    def unpublished_years(self, start: date, end: date) -> list[int]:
        """Years in ``[start.year, end.year]`` without a published schedule (weekends only)."""
        return [y for y in range(start.year, end.year + 1) if y not in self.published_years]

    def _local(self, moment: datetime) -> datetime:
        """``moment`` as a naive wall-clock time in ``tz``."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a timezone-aware datetime is required")
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def _normalise(self, local: datetime) -> datetime:
        """The first working moment at or after the wall-clock time ``local``."""
        d = local.date()
        if self.is_workday(d) and local.time() < self.day_end:
            return max(local, datetime.combine(d, self.day_start))
        return datetime.combine(self.next_workday(d), self.day_start)


register_models(CalendarDay, CalendarYear)


# --- Loading from the database ------------------------------------------------------------


def _config_time(value: Any, default: time) -> time:
    if value is None or value == "":
        return default
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def load_calendar(years: Iterable[int] | None = None) -> WorkingCalendar:
    """The calendar from ``calendar_days``/``calendar_years`` and the app's config.

    ``years`` limits the rows read (all rows when None). Cached per app context, so one
    request reads the tables once; :func:`invalidate_calendar` drops the cache.
    """
    wanted = None if years is None else frozenset(years)
    cache: dict[frozenset[int] | None, WorkingCalendar] = g.setdefault(_CACHE_KEY, {})
    if wanted not in cache:
        # Kept per process too (portal.refdata): the calendar changes a few times a year.
        config = current_app.config
        key = (f"calendar:{sorted(wanted) if wanted is not None else 'all'}:"
               f"{config.get('WORKDAY_START')}:{config.get('WORKDAY_END')}:"
               f"{config.get('TIMEZONE')}")
        cache[wanted] = cached(key, lambda: _read_calendar(wanted))
    return cache[wanted]


def _read_calendar(wanted: frozenset[int] | None) -> WorkingCalendar:

    day_query = select(CalendarDay.day, CalendarDay.is_workday)
    year_query = select(CalendarYear.year)
    if wanted is not None:
        if not wanted:
            day_query = day_query.where(false())
        else:
            day_query = day_query.where(
                CalendarDay.day >= date(min(wanted), 1, 1),
                CalendarDay.day <= date(max(wanted), 12, 31),
            )
        year_query = year_query.where(CalendarYear.year.in_(sorted(wanted)))
    exceptions = {
        day: bool(is_workday)
        for day, is_workday in db.session.execute(day_query)
        if wanted is None or day.year in wanted
    }
    config = current_app.config
    calendar = WorkingCalendar(
        exceptions=exceptions,
        published_years=frozenset(db.session.scalars(year_query)),
        day_start=_config_time(config.get("WORKDAY_START"), DEFAULT_DAY_START),
        day_end=_config_time(config.get("WORKDAY_END"), DEFAULT_DAY_END),
        tz=ZoneInfo(config.get("TIMEZONE") or DEFAULT_TIMEZONE),
    )
    return calendar


def invalidate_calendar() -> None:
    """Forget the cached calendar of this app context (after the tables change); the
    process's copy is checked again (``portal.refdata``: the change's flush says so)."""
    if has_app_context():
        g.pop(_CACHE_KEY, None)
        refresh()


# --- Services (flush, never commit) ---------------------------------------------------------


def _upsert_year(year: int, source: str) -> CalendarYear:
    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, source=source, loaded_at=utcnow())
        db.session.add(row)
    else:
        row.source = source
        row.loaded_at = utcnow()
    return row


def seed_calendar(years: Iterable[int]) -> list[int]:
    """Load the library's schedule for each published year among ``years``.

    A seeded year's ``source="library"`` rows are replaced by the library's; rows an
    admin entered (``source="admin"``) are kept, since the admin's edit wins. Each seeded
    year gets a ``calendar_years`` row. Unpublished years are skipped; returns the years
    seeded.
    """
    seeded: list[int] = []
    for year in sorted(set(years)):
        days, published = china_public_calendar(year)
        if not published:
            log.info("calendar: no published schedule for %s in the holidays library", year)
            continue
        existing = {
            row.day: row
            for row in db.session.scalars(
                select(CalendarDay).where(
                    CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
                )
            )
        }
        for day, row in existing.items():
            if row.source == LIBRARY and day not in days:
                db.session.delete(row)
        for day, (is_workday, name) in days.items():
            row = existing.get(day)
            if row is None:
                db.session.add(
                    CalendarDay(day=day, is_workday=is_workday, name=name, source=LIBRARY)
                )
            elif row.source == LIBRARY:
                row.is_workday, row.name = is_workday, name
        _upsert_year(year, library_source())
        seeded.append(year)
        log.info("calendar: seeded %s from %s (%d days)", year, library_source(), len(days))
    db.session.flush()
    invalidate_calendar()
    return seeded


def set_calendar_day(day: date, is_workday: bool, name: str) -> CalendarDay:
    """An admin's exception for ``day`` (created or overwritten; survives re-seeding)."""
    name = name.strip()
    if len(name) > NAME_LENGTH:
        raise ValueError(f"a calendar day's name has at most {NAME_LENGTH} characters")
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday, row.name, row.source = is_workday, name, ADMIN
    db.session.flush()
    invalidate_calendar()
    return row


def remove_calendar_day(day: date) -> None:
    """Drop the exception for ``day`` (nothing happens when there is none).

    A library row removed this way returns with the next seeding; to overrule the library
    for good, an admin sets the day with :func:`set_calendar_day` instead.
    """
    row = db.session.get(CalendarDay, day)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    invalidate_calendar()


def mark_year_published(year: int, source: str = ADMIN) -> CalendarYear:
    """Record that ``year``'s holidays are complete (an admin entered them by hand)."""
    row = _upsert_year(year, source)
    db.session.flush()
    invalidate_calendar()
    return row
