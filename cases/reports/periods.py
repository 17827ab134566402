"""Report periods: a day, week, month, quarter, year or a custom range of local dates.

A period is a half-open range of local calendar days ``[first, last]``; ``bounds()`` gives
the UTC instants ``[start, end)`` that SQL compares ``created_at``-like columns with.
Every table compares a period with the previous one of the same kind and length and with
the same period a year before.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

KINDS = ("day", "week", "month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 3 * 366


class PeriodError(ValueError):
    """A period the query string cannot mean (the view answers 400 with the message)."""


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # the first local day
    last: date  # the last local day (inclusive)

    # --- making -------------------------------------------------------------------

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        """The ``kind`` period (not custom) that contains ``day``."""
        if kind == "day":
            return cls(kind, day, day)
        if kind == "week":  # Monday to Sunday
            first = day - timedelta(days=day.weekday())
            return cls(kind, first, first + timedelta(days=6))
        if kind == "month":
            return cls.month(day.year, day.month)
        if kind == "quarter":
            q = (day.month - 1) // 3
            first = date(day.year, 3 * q + 1, 1)
            last_month = 3 * q + 3
            return cls(kind, first, date(day.year, last_month, _month_days(day.year, last_month)))
        if kind == "year":
            return cls(kind, date(day.year, 1, 1), date(day.year, 12, 31))
        raise PeriodError(f"unknown period kind {kind!r}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise PeriodError("no such month")
        return cls("month", date(year, month, 1), date(year, month, _month_days(year, month)))

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        if last < first:
            raise PeriodError("the range ends before it starts")
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise PeriodError("the range is too long")
        return cls("custom", first, last)

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """``2026-11`` → November 2026."""
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError as exc:
            raise PeriodError("not a month (YYYY-MM)") from exc
        return cls.month(year, month)

    # --- reading ------------------------------------------------------------------

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The UTC instants ``[start, end)`` of the period's local days."""
        zone = _zone()
        start = datetime.combine(self.first, time.min, zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time.min, zone).astimezone(UTC)
        return start, end

    def previous(self) -> Period:
        """The period just before: the previous month, quarter...; a custom range of the
        same length."""
        if self.kind in ("month", "quarter", "year"):
            return Period.containing(self.kind, self.first - timedelta(days=1))
        return Period(self.kind, self.first - timedelta(days=self.days),
                      self.first - timedelta(days=1))

    def year_before(self) -> Period:
        """The same period a year before (29 February becomes the 28th)."""
        return Period(self.kind, _year_back(self.first), _year_back(self.last))

    def key(self) -> str:
        """A short name for files and links (``2026-11``, ``2026-Q4``, ``2026-11-01..``)."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "year":
            return f"{self.first:%Y}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "day":
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def query(self) -> dict[str, str]:
        """The query-string arguments that mean this period (``from_args`` reads them)."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(),
                    "to": self.last.isoformat()}
        return {"period": self.kind, "date": self.first.isoformat()}


def from_args(args, default_kind: str = "month") -> Period:
    """The period a page's query string names (``period``, ``date``, ``from``, ``to``);
    this month by default. Raises ``PeriodError`` on nonsense."""
    kind = args.get("period") or default_kind
    if kind not in KINDS:
        raise PeriodError("unknown period")
    try:
        if kind == "custom":
            return Period.custom(date.fromisoformat(args.get("from", "")),
                                 date.fromisoformat(args.get("to", "")))
        day = date.fromisoformat(args["date"]) if args.get("date") else today()
    except ValueError as exc:
        raise PeriodError("not a date (YYYY-MM-DD)") from exc
    return Period.containing(kind, day)


def today() -> date:
    return datetime.now(_zone()).date()


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _month_days(year: int, month: int) -> int:
    return _calendar.monthrange(year, month)[1]


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(period: Period) -> tuple[date, date] | None:
    """``[first, stop)``: the first days of the whole local months inside ``period``
    (None when it holds none)."""
    first = period.first if period.first.day == 1 else next_month(period.first)
    stop = next_month(period.last)
    if (period.last + timedelta(days=1)).day != 1:
        stop = period.last.replace(day=1)
    return (first, stop) if first < stop else None
