"""Periods of the indexed date as lexemes (PostgreSQL backend): the GIN index narrows a
search to the newest (oldest) days before any row is read.

A search reads the window of its newest 1,000 matches (``postgres_backend.MATCH_WINDOW``).
A word in 0.3-20 % of a million cases has 3,000-200,000 matches; reading every one (a heap
fetch of a ~1.8 KB row each) or a range of the date index wide enough to hold the window
(~1 µs an entry) cost 100-500 ms. So each row's ``tsv`` also holds the year, month and
day of its ``created_at`` as lexemes without position (``'@2026' '@2026-11'
'@2026-11-30'``; ``'@none'`` without the date), and the search ANDs its ``tsquery`` with
the periods on the window's side of an edge (``period_tsquery``: the edge's days, then
whole months, then whole years): GIN's fast scan walks the rarer side and skips through
the other, so only the matches of those days are read. When more than the window match
there, they hold the table's newest matches (every other match is older); else the
caller widens the edge.

No query lexeme starts with "@" (they are ``code:term`` or ``=value``) and ranking reads
the query alone (``ts_rank_cd`` of the words), so the periods change no answer. Migration
0015 adds them to the rows of an older index (``PERIODS_SQL``).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

PREFIX = "@"
UNDATED = "@none"
# A period tsquery with more alternatives than this reads the whole table instead.
MAX_PERIODS = 120
# The year, month and day of a date key: its first 4, 7 and 10 characters.
CUTS = (4, 7, 10)

# The same lexemes in SQL, from the stored date key (migration 0015 adds them to rows
# written before; kept beside ``period_lexemes``, which writes them for new rows).
_KEY = "dates ->> 'created_at'"
PERIODS_SQL = (
    f"CASE WHEN {_KEY} IS NULL THEN '''{UNDATED}'''::tsvector ELSE ("
    + " || ' ' || ".join(f"'''{PREFIX}' || left({_KEY}, {n}) || ''''" for n in CUTS)
    + ")::tsvector END"
)


def quote(lexeme: str) -> str:
    return "'" + lexeme + "'"  # period lexemes hold digits, "-", "@" and letters only


def period_lexemes(key: str | None) -> str:
    """The quoted period lexemes (year, month, day) of a date key (``date_key``)."""
    if not key:
        return quote(UNDATED)
    return " ".join(quote(PREFIX + key[:n]) for n in CUTS)


def _year(year: int) -> str:
    return f"{PREFIX}{year:04d}"


def _month(day: date) -> str:
    return f"{PREFIX}{day:%Y-%m}"


def _day(day: date) -> str:
    return f"{PREFIX}{day:%Y-%m-%d}"


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _newer(start: date, last: date) -> list[str]:
    """Periods from ``start`` (its day) on: the days to its month's end, the months to its
    year's end, then whole years to the year after ``last`` (a row filed after the newest
    was read still counts); a whole month or year where it begins at ``start``."""
    years = [_year(y) for y in range(start.year + 1, last.year + 2)]
    if start.month == 1 and start.day == 1:
        return [_year(start.year), *years]
    periods = [_month(start)] if start.day == 1 else [
        _day(start.replace(day=d)) for d in range(start.day, _last_day(start) + 1)]
    periods.extend(_month(date(start.year, m, 1)) for m in range(start.month + 1, 13))
    return periods + years


def _older(first: date, end: date) -> list[str]:
    """Periods to ``end`` (its day): whole years from the year before ``first``, the months
    of its year, then the days of its month; a whole month or year where it ends at
    ``end``."""
    years = [_year(y) for y in range(first.year - 1, end.year)]
    if end.month == 12 and end.day == 31:
        return [*years, _year(end.year)]
    periods = years + [_month(date(end.year, m, 1)) for m in range(1, end.month)]
    if end.day == _last_day(end):
        return [*periods, _month(end)]
    return periods + [_day(end.replace(day=d)) for d in range(1, end.day + 1)]


def period_tsquery(edge: str, low: str, high: str, oldest: bool) -> str | None:
    """The periods on the window's side of the date key ``edge`` as a tsquery: from its
    day to the newest (``high``) and the undated rows, or, ``oldest``, from the oldest
    (``low``) to its day. None when they would be every row (or too many periods): then
    the whole table is read."""
    start, first, last = (date.fromisoformat(k[:10]) for k in (edge, low, high))
    if (start >= last) if oldest else (start <= first):
        return None
    periods = _older(first, start) if oldest else [UNDATED, *_newer(start, last)]
    if len(periods) > MAX_PERIODS:
        return None
    return "(" + " | ".join(quote(p) for p in periods) + ")"


def day_start(edge: str, oldest: bool) -> str:
    """The date key where the periods of ``period_tsquery`` begin (newest first) or end
    (oldest first, the next day's start): the share of rows they cover."""
    day = date.fromisoformat(edge[:10])
    if oldest:
        day += timedelta(days=1)
    return f"{day:%Y-%m-%d}T00:00:00.000000"
