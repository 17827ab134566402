"""Daily totals of filings: what volumes over months and years read instead of the cases.

One row per local day (``TIMEZONE``), category, district, channel and type holds how many
cases were received, and the same per local month (``monthly_case_totals``): a period's
whole months are read from the months, only the days at its ends from the days (a year is
twelve months' rows instead of 365 days'). The rows follow the ``cases`` table in the same
transaction, through mapper events on ``Case`` (insert, update of a counted column,
delete): every way a case is filed or re-dated by the ORM — the filing door, the demo
city, a fixture that dates a case back, a correction of type or category at intake —
keeps them equal to the live count without each writer remembering to. Bulk loaders that
insert with Core statements (the benches) call ``rebuild_totals`` afterwards, as ``flask
reports rebuild-totals`` does.

Each change is one portable upsert per table (``INSERT … ON CONFLICT DO UPDATE``, SQLite ≥ 3.35 and
PostgreSQL), so two processes filing on the same day never lose a count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, cast, delete, event, func, inspect, select
from sqlalchemy.engine import Connection

from cases.models import Case
from cases.reports import upserts
from cases.reports.models import DailyCaseTotal, MonthlyCaseTotal
from cases.reports.periods import Period, whole_months
from portal.db import db

TOTALS = DailyCaseTotal.__table__
# What a total is kept by (the key), as attributes of ``Case``.
KEY_COLUMNS = ("category_id", "district_id", "channel", "type")
Key = tuple[date, int, int, str, str]
TOTAL_KEY = ("day", "category_id", "district_id", "channel", "type")  # the unique key
MONTHS = MonthlyCaseTotal.__table__
MONTH_KEY = ("month", *KEY_COLUMNS)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_day(instant: datetime) -> date:
    """The local calendar day of a UTC instant (the day a case counts on)."""
    return instant.astimezone(_zone()).date()


def _value(value) -> str:
    return getattr(value, "value", value)


def key_of(case: Case) -> Key | None:
    """The total a case counts in, from its current attributes (None before it is dated)."""
    if case.created_at is None or case.category_id is None or case.district_id is None:
        return None
    return (local_day(case.created_at), case.category_id, case.district_id,
            _value(case.channel), _value(case.type))


def add(connection: Connection, key: Key, amount: int) -> None:
    """Add ``amount`` (±1) to one day's total and its month's: one upsert each, atomic
    under concurrency."""
    add_counts(connection, {key: amount})


def add_counts(connection: Connection, counts: Mapping[Key, int]) -> None:
    """Add each key's amount to its day's total and its month's (an import's many cases:
    one multi-row upsert per table)."""
    days = [{"day": k[0], "category_id": k[1], "district_id": k[2], "channel": k[3],
             "type": k[4], "received": n} for k, n in sorted(counts.items()) if n]
    if not days:
        return
    months: Counter = Counter()
    for row in days:
        months[(row["day"].replace(day=1), *(row[c] for c in KEY_COLUMNS))] += row["received"]
    connection.execute(upserts.adding(connection, TOTALS, TOTAL_KEY, "received"), days)
    connection.execute(upserts.adding(connection, MONTHS, MONTH_KEY, "received"), [
        {**dict(zip(MONTH_KEY, k, strict=True)), "received": n}
        for k, n in months.items() if n])


# --- following the cases table ---------------------------------------------------------


def _old_key(case: Case) -> Key | None:
    """The total a case counted in before this flush's changes (from attribute history)."""
    state = inspect(case)
    values = {}
    for name in ("created_at", *KEY_COLUMNS):
        history = state.attrs[name].history
        values[name] = history.deleted[0] if history.deleted else getattr(case, name)
    if values["created_at"] is None:
        return None
    return (local_day(values["created_at"]), values["category_id"], values["district_id"],
            _value(values["channel"]), _value(values["type"]))


def _filed(_mapper, connection: Connection, case: Case) -> None:
    key = key_of(case)
    if key is not None:
        add(connection, key, 1)


def _changed(_mapper, connection: Connection, case: Case) -> None:
    old, new = _old_key(case), key_of(case)
    if old != new:  # re-dated or reclassified: the count moves from one total to another
        if old is not None:
            add(connection, old, -1)
        if new is not None:
            add(connection, new, 1)


def _removed(_mapper, connection: Connection, case: Case) -> None:
    key = _old_key(case)
    if key is not None:
        add(connection, key, -1)


def follow_cases() -> None:
    """Keep the totals as ``cases`` changes (once per process; the factory calls it)."""
    for name, listener in (("after_insert", _filed), ("after_update", _changed),
                           ("after_delete", _removed)):
        if not event.contains(Case, name, listener):
            event.listen(Case, name, listener)


# --- rebuilding ------------------------------------------------------------------------


def _offset_spans(first: datetime, last: datetime) -> list[tuple[datetime, datetime, int]]:
    """``[start, end)`` UTC spans in which the zone's offset is constant, with the offset
    in minutes (one span for zones without daylight saving)."""
    zone, spans = _zone(), []
    start = first
    offset = int(start.astimezone(zone).utcoffset().total_seconds() // 60)
    moment = start
    while moment < last:
        moment = min(moment + timedelta(hours=1), last)
        now = int(moment.astimezone(zone).utcoffset().total_seconds() // 60)
        if now != offset:
            spans.append((start, moment, offset))
            start, offset = moment, now
    spans.append((start, last + timedelta(microseconds=1), offset))
    return spans


def _grouped_counts() -> Iterable[tuple]:
    """Live counts per local day and key: one GROUP BY (per daylight-saving span on
    SQLite, which knows no time zones)."""
    keys = [Case.category_id, Case.district_id, Case.channel, Case.type]
    if db.engine.dialect.name == "postgresql":
        local = func.timezone(current_app.config["TIMEZONE"], func.timezone("UTC", Case.created_at))
        day = cast(local, Date)
        yield from db.session.execute(
            select(day, *keys, func.count()).group_by(day, *keys)
        ).all()
        return
    first, last = db.session.execute(select(func.min(Case.created_at),
                                            func.max(Case.created_at))).one()
    if first is None:
        return
    spans = _offset_spans(first.replace(minute=0, second=0, microsecond=0), last)
    for start, end, minutes in spans:
        day = func.date(Case.created_at, f"{minutes:+d} minutes")
        rows = db.session.execute(
            select(day, *keys, func.count())
            .where(Case.created_at >= start, Case.created_at < end)
            .group_by(day, *keys)
        ).all()
        for text_day, *rest in rows:
            yield (date.fromisoformat(text_day), *rest)


def rebuild_totals() -> int:
    """Recompute every daily and monthly total from the cases; returns the number of
    rows written. The caller commits."""
    counts: Counter = Counter()
    for day, category_id, district_id, channel, case_type, n in _grouped_counts():
        counts[(day, category_id, district_id, _value(channel), _value(case_type))] += n
    months: Counter = Counter()
    for (day, *keys), n in counts.items():
        months[(day.replace(day=1), *keys)] += n
    connection = db.session.connection()
    db.session.execute(delete(DailyCaseTotal))
    db.session.execute(delete(MonthlyCaseTotal))
    return (upserts.write_counts(connection, TOTALS, TOTAL_KEY, "received", counts)
            + upserts.write_counts(connection, MONTHS, MONTH_KEY, "received", months))


# --- reading ---------------------------------------------------------------------------


def received_rows(period: Period, keys: tuple[str, ...], **filters) -> Counter:
    """Cases received in ``period`` per tuple of ``keys`` (key columns, or ``month``: the
    first day of each local month), each whole month from the monthly totals and the
    days at the ends from the daily ones. ``filters`` hold key columns to equal values."""
    found: Counter = Counter()
    months = whole_months(period)
    spans = [(period.first, period.last)] if months is None else [
        (period.first, months[0] - timedelta(days=1)),
        (months[1], period.last)]
    for first, last in spans:
        if first <= last:
            for *key, n in db.session.execute(_sum(DailyCaseTotal, DailyCaseTotal.day,
                                                   first, last, keys, filters)):
                found[_month_key(keys, key)] += int(n or 0)
    if months is not None:
        stop = months[1] - timedelta(days=1)
        for *key, n in db.session.execute(_sum(MonthlyCaseTotal, MonthlyCaseTotal.month,
                                               months[0], stop, keys, filters)):
            found[tuple(key)] += int(n or 0)
    return found


def _sum(table, when, first: date, last: date, keys: tuple[str, ...], filters: dict):
    """``SELECT keys…, sum(received)`` of ``table`` from ``first`` to ``last``; ``month``
    over the daily totals is their day (folded into its month by the caller)."""
    columns = [when if key in ("month", "day") else getattr(table, key) for key in keys]
    stmt = select(*columns, func.sum(table.received)).where(when >= first, when <= last)
    for name, value in filters.items():
        stmt = stmt.where(getattr(table, name) == value)
    return stmt.group_by(*columns) if columns else stmt


def _month_key(keys: tuple[str, ...], key: list) -> tuple:
    """A daily row's key with its day as its month's first day where ``month`` is asked."""
    return tuple(value.replace(day=1) if name == "month" else value
                 for name, value in zip(keys, key, strict=True))


def received(period: Period, by: str | None = None, **filters) -> dict:
    """Cases received in ``period`` from the totals: a number, or ``{group: number}`` when
    ``by`` names a key column (``category_id``, ``district_id``, ``channel``, ``type``,
    ``day``, ``month``). ``filters`` hold key columns to equal values."""
    if by == "day":  # days only the daily totals hold
        stmt = _sum(DailyCaseTotal, DailyCaseTotal.day, period.first, period.last, ("day",),
                    filters)
        return {day: int(n) for day, n in db.session.execute(stmt)}
    rows = received_rows(period, (by,) if by else (), **filters)
    if by is None:
        return {None: rows.get((), 0)}
    return {key[0]: n for key, n in rows.items()}


def received_count(period: Period, **filters) -> int:
    """The number of cases received in ``period`` (from the totals)."""
    return received(period, **filters)[None]
