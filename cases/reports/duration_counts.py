"""Histograms of the kept durations: exact medians and p90 of a period from sums.

A median does not add up over days, but how many durations fall in each range of lengths
does. Each kept duration (``report_durations``, ``timings``) is also counted in
``report_duration_counts`` per grouping, row key, local month and local year, in its
*bucket*: its length in microseconds on a logarithmic scale (``bucket_of``: 16 buckets
per doubling, each 3–6 % wide). For a period the counts of its whole years and months are
summed (the days at its ends that make no whole month are counted from the durations
themselves, grouped in SQL); the ranks of the median (⌊(n+1)/2⌋, ⌊(n+2)/2⌋) and of p90
(⌈0.9·n⌉) are found in the sums, and for each the database returns the one duration at
its place within its bucket (the period's range of an index by kind, key, bucket and
moment that holds the length, sorted: ``ORDER BY micros LIMIT 1 OFFSET place``; the two
middle ranks in one bucket as one ask, the sum of ``LIMIT 2``). The figures are those of
ranking every duration, exactly; no duration list reaches Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, bindparam, delete, false, func, or_, select, text
from sqlalchemy.engine import Connection

from cases.reports import upserts
from cases.reports.models import ReportDuration, ReportDurationCount
from cases.reports.periods import Period, next_month
from cases.reports.totals import local_day
from portal.db import UTCDateTime, db

COUNTS = ReportDurationCount.__table__
COUNT_KEY = ("dim", "months", "start", "kind", "key", "bucket")  # the table's unique key
KINDS = ("sign", "close", "answer")
DIMS = {"department": "department_id", "staff": "staff_id", "category": "category_id",
        "district": "district_id"}
PER_DOUBLING = 16  # buckets per doubling of the length: 4 bits after the leading one
BITS = PER_DOUBLING.bit_length()  # the bits of a length that name its bucket
Cell = tuple[str, int, date, str, int, int]  # dim, months, start, kind, key, bucket
ASKS_PER_STATEMENT = 200  # scalar subqueries in one statement (SQLite's limits are far)


def bucket_of(micros: int) -> int:
    """The bucket of a length in microseconds: increasing with it (so ranks can be found
    bucket by bucket), itself below 32 µs, then 16 per doubling (the leading bit and the
    next four); negative lengths (a step dated before the one it follows) mirror the
    positive ones below zero."""
    if micros < 0:
        return -1 - bucket_of(-1 - micros)
    if micros < 2 * PER_DOUBLING:
        return micros
    shift = micros.bit_length() - BITS
    return PER_DOUBLING * shift + (micros >> shift)


def bucket_sql(column: str) -> str:
    """``bucket_of`` as portable SQL over an integer column (SQLite and PostgreSQL): the
    migration fills the existing durations with one UPDATE."""
    def positive(value: str) -> str:
        whens = [f"WHEN {value} < {2 * PER_DOUBLING} THEN {value}"]
        for bits in range(BITS + 1, 64):
            shift = bits - BITS
            whens.append(f"WHEN {value} < {1 << bits} THEN "
                         f"{PER_DOUBLING * shift} + ({value} >> {shift})")
        return "CASE " + " ".join(whens) + " END"

    return (f"CASE WHEN {column} < 0 THEN -1 - ({positive(f'(-1 - {column})')}) "
            f"ELSE {positive(column)} END")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cells_of(rows: Iterable) -> Counter[Cell]:
    """The histogram cells these durations count in (rows as ``timings`` keeps them:
    mappings with kind, at, micros and the four keys)."""
    found: Counter[Cell] = Counter()
    for row in rows:
        day = local_day(_aware(row["at"]))
        month, year = day.replace(day=1), day.replace(month=1, day=1)
        bucket = bucket_of(row["micros"])
        for dim, column in DIMS.items():
            key = row[column] or 0
            found[(dim, 1, month, row["kind"], key, bucket)] += 1
            found[(dim, 12, year, row["kind"], key, bucket)] += 1
    return found


def add(connection: Connection, change: Counter[Cell]) -> None:
    """Add each cell's amount (one upsert executed for all of them, atomic per row)."""
    params = [{"dim": dim, "months": months, "start": start, "kind": kind, "key": key,
               "bucket": bucket, "n": n}
              for (dim, months, start, kind, key, bucket), n in change.items() if n]
    if not params:
        return
    connection.execute(upserts.adding(connection, COUNTS, COUNT_KEY, "n"),
                       sorted(params, key=lambda p: (p["dim"], p["months"], p["start"])))


def kept_rows(connection: Connection, where=None) -> Iterable:
    """The kept durations as ``cells_of`` reads them (streamed)."""
    d = ReportDuration
    query = select(d.kind, d.at, d.micros, *(getattr(d, c) for c in DIMS.values()))
    if where is not None:
        query = query.where(where)
    return connection.execute(query.execution_options(yield_per=20000)).mappings()


def rebuild(connection: Connection | None = None, rows: Iterable | None = None) -> int:
    """Recount every histogram from the kept durations (or from ``rows``, the durations
    just rebuilt); returns the number of cells. The caller commits."""
    conn = connection or db.session.connection()
    found = cells_of(kept_rows(conn) if rows is None else rows)
    conn.execute(delete(ReportDurationCount))
    return upserts.write_counts(conn, COUNTS, COUNT_KEY, "n", dict(sorted(found.items())))


def fill_buckets(connection: Connection) -> None:
    """Give the durations already kept their bucket (one UPDATE; the migration's)."""
    connection.execute(text(f"UPDATE report_durations SET bucket = {bucket_sql('micros')}"))  # noqa: S608


# --- reading ---------------------------------------------------------------------------


def _split(period: Period) -> tuple[list[date], list[date], list[tuple[date, date]]]:
    """The period as whole local years and months (their first days) and the day ranges
    at its ends that make no whole month (``[first, last]``)."""
    first, stop = period.first, period.last + timedelta(days=1)
    begin = first if first.day == 1 else next_month(first)
    end = stop.replace(day=1)
    if begin >= end:
        return [], [], [(first, period.last)]
    years, months, month = [], [], begin
    while month < end:
        if month.month == 1 and month.replace(year=month.year + 1) <= end:
            years.append(month)
            month = month.replace(year=month.year + 1)
        else:
            months.append(month)
            month = next_month(month)
    edges = [(a, b - timedelta(days=1)) for a, b in ((first, begin), (end, stop)) if a < b]
    return years, months, edges


def ranked(period: Period, by: str, keyed: bool, keep: set | None, digits: int = 2,
           kinds: tuple[str, ...] = ("sign", "close")) -> dict[str, tuple[dict, dict]]:
    """Per kind (``sign``, ``close``, ``answer``): ``(per key, pooled)`` median, p90 and
    count of the durations in ``period`` by ``by`` (as ``figures_common.durations`` gives
    them; key None: no department, person, category or district), from the histograms and,
    per rank, the one duration at its place in its bucket."""
    d = ReportDuration
    column = getattr(d, DIMS[by])
    years, months, edges = _split(period)
    hist: dict = {kind: defaultdict(Counter) for kind in kinds}
    c = ReportDurationCount
    spans = [and_(c.months == 12, c.start.in_(years)) if years else false(),
             and_(c.months == 1, c.start.in_(months)) if months else false()]
    for kind, key, bucket, n in db.session.execute(
            select(c.kind, c.key, c.bucket, func.sum(c.n))
            .where(c.dim == by, c.kind.in_(kinds), or_(*spans))
            .group_by(c.kind, c.key, c.bucket)):
        hist[kind][key][bucket] += int(n)
    for first, last in edges:  # days that make no whole month: counted from the durations
        start, end = Period("custom", first, last).bounds()
        for kind, key, bucket, n in db.session.execute(
                select(d.kind, column, d.bucket, func.count())
                .where(d.kind.in_(kinds), d.at >= start, d.at < end)
                .group_by(d.kind, column, d.bucket)):
            hist[kind][key or 0][bucket] += n
    asks: dict = {}  # (kind, keys, bucket, place in the bucket, take): lengths' sum there
    plans: dict = {}
    for kind in kinds:
        # Cells can sum to 0 (durations moved away): such keys have no figures.
        counts = {k: v for k, v in hist[kind].items()
                  if (k or not keyed) and (keep is None or k in keep) and any(v.values())}
        pooled: Counter = Counter()
        for buckets in counts.values():
            pooled.update(buckets)
        per_key = {key: _plan(kind, buckets, lambda _b, key=key: (key,), asks)
                   for key, buckets in counts.items()}
        plans[kind] = (per_key, _plan(kind, pooled, _holders(counts), asks))
    values = _values(column, list(asks), *period.bounds())
    return {kind: ({key or None: _stats(plan, values, digits) for key, plan in per_key.items()},
                   _stats(pooled_plan, values, digits))
            for kind, (per_key, pooled_plan) in plans.items()}


def _holders(counts: dict):
    """The keys with durations in a bucket (the pooled ranks read all of them)."""
    return lambda bucket: tuple(sorted(k for k, b in counts.items() if b[bucket]))


def _plan(kind: str, buckets: Counter, holders, asks: dict) -> tuple[int, dict]:
    """``(n, {"median": asks, "p90": asks})``: each rank's bucket is found in the counts
    and its place there asked for (``asks`` gathers them); an ask ``(kind, keys, bucket,
    place, take)`` gives the sum of ``take`` lengths from its place. The median is half the
    sum of its asks: the two middle ranks in one ask when they share a bucket (one sort
    of it, not two), the one middle rank twice when ``n`` is odd."""
    n = sum(buckets.values())
    if not n:
        return 0, {}
    low, high, nine = (n + 1) // 2, (n + 2) // 2, (9 * n + 9) // 10
    found: dict = {"median": [], "p90": []}
    below = 0
    for bucket in sorted(buckets):
        top = below + buckets[bucket]

        def at(rank: int, take: int, bucket=bucket, below=below) -> tuple:
            ask = (kind, holders(bucket), bucket, rank - below - 1, take)
            asks[ask] = None
            return ask

        if below < low <= top:
            if high == low:
                found["median"] += [at(low, 1)] * 2
            else:
                found["median"].append(at(low, 2 if high <= top else 1))
        elif below < high <= top:  # the lower middle rank ended the bucket before
            found["median"].append(at(high, 1))
        if below < nine <= top:
            found["p90"].append(at(nine, 1))
        below = top
    return n, found


def _values(column, asks: list[tuple], start: datetime, end: datetime) -> dict:
    """The sum of the ``take`` lengths from each asked place: per ask the durations of
    its keys, bucket and period (one range of the index, which holds their length) sorted
    by the database, one or two rows from it; a few hundred asks per statement, written as
    text (compiling hundreds of subqueries cost more than running them)."""
    found: dict = {}
    if db.session.get_bind().dialect.name == "postgresql":
        found = _listed(column, [a for a in asks if len(a[1]) == 1 and a[1][0]], start, end)
        asks = [a for a in asks if a not in found]
    for first in range(0, len(asks), ASKS_PER_STATEMENT):
        part = asks[first:first + ASKS_PER_STATEMENT]
        picks, params = [], {}
        for i, (kind, keys, bucket, place, take) in enumerate(part):
            named = [str(int(k)) for k in keys if k]
            which = [f"{column.key} IN ({', '.join(named)})"] if named else []
            if 0 in keys:
                which.append(f"{column.key} IS NULL")
            picks.append(
                "(SELECT sum(micros) FROM (SELECT micros FROM report_durations WHERE "  # noqa: S608
                f"kind = :k{i} AND ({' OR '.join(which)}) AND bucket = :b{i} AND "
                f"at >= :start AND at < :end ORDER BY micros LIMIT {int(take)} "
                f"OFFSET :o{i}) AS taken)")
            params.update({f"k{i}": kind, f"b{i}": bucket, f"o{i}": place})
        statement = text(f"SELECT {', '.join(picks)}").bindparams(  # noqa: S608
            bindparam("start", start, type_=UTCDateTime), bindparam("end", end, type_=UTCDateTime))
        row = db.session.execute(statement, params).one()
        found.update(zip(part, row, strict=True))
    return found


def _listed(column, asks: list[tuple], start: datetime, end: datetime) -> dict:
    """PostgreSQL: the asks of one key each as rows of arrays (``unnest``) and one
    correlated subquery, so the statement's plan is short however many asks it holds (the
    written-out subqueries took ~6 ms to plan per statement, as long as running them)."""
    if not asks:
        return {}
    statement = text(
        "SELECT a.i, (SELECT CAST(sum(t.micros) AS bigint) FROM (SELECT d.micros "  # noqa: S608
        "FROM report_durations d WHERE d.kind = a.kind AND "
        f"d.{column.key} = a.key AND d.bucket = a.bucket AND d.at >= :start AND d.at < :end "
        "ORDER BY d.micros LIMIT a.take OFFSET a.place) AS t) FROM unnest("
        "CAST(:i AS integer[]), CAST(:kinds AS text[]), CAST(:keys AS integer[]), "
        "CAST(:buckets AS integer[]), CAST(:places AS integer[]), CAST(:takes AS integer[])) "
        "AS a(i, kind, key, bucket, place, take)"
    ).bindparams(bindparam("start", start, type_=UTCDateTime),
                 bindparam("end", end, type_=UTCDateTime))
    rows = db.session.execute(statement, {
        "i": list(range(len(asks))), "kinds": [a[0] for a in asks],
        "keys": [int(a[1][0]) for a in asks], "buckets": [int(a[2]) for a in asks],
        "places": [int(a[3]) for a in asks], "takes": [int(a[4]) for a in asks]})
    return {asks[i]: micros for i, micros in rows}


def _stats(plan: tuple[int, dict], values: dict, digits: int) -> dict:
    """Median, p90 and n from the lengths at the ranks (as ranking every length does)."""
    n, asks = plan
    if not n:
        return {"median": None, "p90": None, "n": 0}

    def hours(micros: int) -> float:
        return micros / 10**6 / 3600

    middle = hours(sum(int(values[ask]) for ask in asks["median"])) / 2
    return {"median": round(middle, digits),
            "p90": round(hours(int(values[asks["p90"][0]])), digits), "n": n}
