"""Daily totals of filings: what volumes over months and years read instead of the cases.

One row per local day (``TIMEZONE``), category, district, channel and type holds how many
cases were received. The rows follow the ``cases`` table in the same transaction, through
mapper events on ``Case`` (insert, update of a counted column, delete): every way a case is
filed or re-dated by the ORM — the filing door, the demo city, a fixture that dates a case
back, a correction of type or category at intake — keeps them equal to the live count
without each writer remembering to. Bulk loaders that insert with Core statements (the
benches) call ``rebuild_totals`` afterwards, as ``flask reports rebuild-totals`` does.

Each change is one portable upsert (``INSERT … ON CONFLICT DO UPDATE``, SQLite ≥ 3.35 and
PostgreSQL), so two processes filing on the same day never lose a count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, cast, delete, event, func, inspect, select
from sqlalchemy.engine import Connection

from cases.models import Case
from cases.reports import upserts
from cases.reports.models import DailyCaseTotal
from cases.reports.periods import Period
from portal.db import db

TOTALS = DailyCaseTotal.__table__
# What a total is kept by (the key), as attributes of ``Case``.
KEY_COLUMNS = ("category_id", "district_id", "channel", "type")
Key = tuple[date, int, int, str, str]
TOTAL_KEY = ("day", "category_id", "district_id", "channel", "type")  # the unique key


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
    """Add ``amount`` (±1) to one day's total: one upsert, atomic under concurrency."""
    day, category_id, district_id, channel, case_type = key
    connection.execute(upserts.adding(connection, TOTALS, TOTAL_KEY, "received"), {
        "day": day, "category_id": category_id, "district_id": district_id,
        "channel": channel, "type": case_type, "received": amount})


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
    """Recompute every daily total from the cases; returns the number of rows written.
    The caller commits."""
    counts: dict[Key, int] = {}
    for day, category_id, district_id, channel, case_type, n in _grouped_counts():
        key = (day, category_id, district_id, _value(channel), _value(case_type))
        counts[key] = counts.get(key, 0) + n
    db.session.execute(delete(DailyCaseTotal))
    rows = [
        {"day": k[0], "category_id": k[1], "district_id": k[2], "channel": k[3], "type": k[4],
         "received": n}
        for k, n in counts.items()
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(TOTALS.insert(), rows[start:start + 5000])
    return len(rows)


# --- reading ---------------------------------------------------------------------------


def received(period: Period, by: str | None = None, **filters) -> dict:
    """Cases received in ``period`` from the totals: a number, or ``{group: number}`` when
    ``by`` names a key column (``category_id``, ``district_id``, ``channel``, ``type``,
    ``day``). ``filters`` hold key columns to equal values."""
    column = getattr(DailyCaseTotal, by) if by else None
    stmt = select(*([column] if column is not None else []),
                  func.coalesce(func.sum(DailyCaseTotal.received), 0)).where(
        DailyCaseTotal.day >= period.first, DailyCaseTotal.day <= period.last
    )
    for name, value in filters.items():
        stmt = stmt.where(getattr(DailyCaseTotal, name) == value)
    if column is None:
        return {None: int(db.session.scalar(stmt) or 0)}
    return {key: int(n) for key, n in db.session.execute(stmt.group_by(column)).all()}


def received_count(period: Period, **filters) -> int:
    """The number of cases received in ``period`` (from the totals)."""
    return received(period, **filters)[None]

