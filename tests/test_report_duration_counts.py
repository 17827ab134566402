"""The durations' histograms (cases.reports.duration_counts) give exactly the medians and
p90 of ranking every kept duration, for any period, grouping and set of rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from cases.reports import duration_counts, timings
from cases.reports.duration_counts import bucket_of, bucket_sql
from cases.reports.models import ReportDuration, ReportDurationCount
from cases.reports.periods import Period
from portal.db import db

HOUR = 3600 * 10**6


def test_buckets_increase_with_the_length():
    values = sorted({0, 1, 15, 16, 17, 31, 32, 33, 10**6, HOUR, HOUR + 1, 2**40, 2**62,
                     *(-v for v in (1, 2, 16, 17, HOUR)),
                     *random.Random(3).sample(range(-10**13, 10**13), 3000)})
    buckets = [bucket_of(v) for v in values]
    assert buckets == sorted(buckets)
    assert bucket_of(32) == 32 and bucket_of(31) == 31 and bucket_of(-1) == -1
    # 16 per doubling (at most 6.25 % wide): 7 % more is always another bucket.
    assert all(bucket_of(v) < bucket_of(int(v * 1.07)) for v in values if v > 32)
    assert len(set(buckets)) > 200


def test_the_sql_buckets_equal_the_python_ones(database):
    values = [0, 7, 15, 16, 17, 31, 32, 1000, HOUR, 2**40 + 12345, 2**62 - 1, -1, -16, -17,
              -HOUR, *random.Random(5).sample(range(-10**12, 10**13), 200)]
    with database.app_context():
        sql = bucket_sql("v")
        for value in values:
            found = db.session.scalar(text(f"SELECT {sql} FROM (SELECT :x AS v) AS t"),  # noqa: S608
                                      {"x": value})
            assert found == bucket_of(value), value


def _brute(rows: list[dict], period: Period, column: str, keyed: bool, keep) -> dict:
    """Every duration of the period ranked (as the workload did before the histograms)."""
    start, end = period.bounds()
    out = {}
    for kind in duration_counts.KINDS:
        chosen = [r for r in rows if r["kind"] == kind and start <= r["at"] < end
                  and (r[column] is not None or not keyed)
                  and (keep is None or r[column] in keep)]
        per_key: dict = {}
        for r in chosen:
            per_key.setdefault(r[column], []).append(r["micros"])
        out[kind] = ({k: _stats(v) for k, v in per_key.items()},
                     _stats([r["micros"] for r in chosen]))
    return out


def _stats(values: list[int]) -> dict:
    if not values:
        return {"median": None, "p90": None, "n": 0}
    values = sorted(values)
    n = len(values)

    def hours(micros: int) -> float:
        return micros / 10**6 / 3600

    low, high, nine = (n + 1) // 2, (n + 2) // 2, (9 * n + 9) // 10
    return {"median": round((hours(values[low - 1]) + hours(values[high - 1])) / 2, 2),
            "p90": round(hours(values[nine - 1]), 2), "n": n}


def _durations(rng: random.Random, count: int) -> list[dict]:
    """Durations over fourteen months, lengths clustered (so buckets hold many), some
    repeated, some negative, keys from a few rows or none."""
    first = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        at = first + timedelta(seconds=rng.randint(0, 425 * 86400))
        micros = rng.choice([HOUR, 2 * HOUR, rng.randint(-HOUR, 3 * HOUR),
                             rng.randint(0, 400 * HOUR), rng.randint(0, 100)])
        rows.append({
            "kind": rng.choice(duration_counts.KINDS), "at": at.replace(microsecond=0),
            "ref_id": i + 1, "case_id": i % 500 + 1, "earlier": at - timedelta(hours=1),
            "micros": micros, "bucket": bucket_of(micros),
            "department_id": rng.choice([1, 2, 3, None]), "staff_id": rng.choice([7, 8, None]),
            "category_id": rng.choice([11, 12, 13, 14]), "district_id": rng.choice([21, None]),
        })
    return rows


@pytest.mark.parametrize("by", ["department", "staff", "category", "district"])
def test_histograms_rank_exactly(database, by, monkeypatch):
    monkeypatch.setattr(duration_counts, "ASKS_PER_STATEMENT", 7)  # several statements
    rng = random.Random(len(by))
    rows = _durations(rng, 1500)
    periods = [
        Period.month(2025, 3), Period.containing("quarter", date(2025, 5, 5)),
        Period.containing("year", date(2025, 6, 1)), Period.containing("week", date(2025, 7, 2)),
        Period.containing("day", date(2025, 9, 9)),
        Period.custom(date(2025, 1, 17), date(2026, 2, 3)),  # ends and whole months
        Period.custom(date(2025, 2, 1), date(2025, 2, 27)),  # no whole month
        Period.custom(date(2024, 12, 1), date(2026, 2, 28)),  # a whole year and months
    ]
    column = duration_counts.DIMS[by]
    with database.app_context():
        # Written through ``timings.replace`` in three parts (as flushes would), one part
        # rewritten: the histograms follow by differences.
        by_case: dict = {}
        for row in rows:
            by_case.setdefault(row["case_id"], []).append(row)
        ids = sorted(by_case)
        for part in (ids[:200], ids[200:], ids[:50]):
            timings.replace(db.session.connection(), part,
                            [r for i in part for r in by_case[i]])
        db.session.commit()
        assert _kept_counts() == +duration_counts.cells_of(rows)
        for period in periods:
            for keyed in (True, False):
                keeps = [None, set(), {rng.choice([1, 7, 11, 21])}, {1, 2, 8, 12, 13}]
                for keep in keeps:
                    found = duration_counts.ranked(period, by, keyed, keep,
                                                   kinds=duration_counts.KINDS)
                    assert found == _brute(rows, period, column, keyed, keep), (
                        period, keyed, keep)
        # Rows move away from department 3 and district 21 altogether: their cells sum
        # to 0 and they have no figures any more.
        for row in rows:
            row.update(department_id=2 if row["department_id"] == 3 else row["department_id"],
                       district_id=None)
        timings.replace(db.session.connection(), ids, rows)
        db.session.commit()
        assert _kept_counts() == +duration_counts.cells_of(rows)
        for period in periods[:3]:
            for keyed in (True, False):
                found = duration_counts.ranked(period, by, keyed, None,
                                               kinds=duration_counts.KINDS)
                assert found == _brute(rows, period, column, keyed, None), (period, keyed)
        assert duration_counts.rebuild() == len(_kept_counts())
        assert _kept_counts() == +duration_counts.cells_of(rows)


def _kept_counts() -> Counter:
    c = ReportDurationCount
    return Counter({tuple(r[:6]): r[6] for r in db.session.execute(
        select(c.dim, c.months, c.start, c.kind, c.key, c.bucket, c.n)) if r[6]})


def test_a_bucket_is_read_from_its_index(database):
    """The n-th duration of one key and bucket in a period is read from one range of the
    index that holds its length (no read of the table, no scan of the period)."""
    with database.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's")
        d = ReportDuration
        query = select(d.micros).where(
            d.kind == "sign", d.department_id == 2, d.bucket == 300,
            d.at >= datetime(2025, 1, 1, tzinfo=UTC), d.at < datetime(2025, 2, 1, tzinfo=UTC),
        ).order_by(d.micros).limit(1).offset(7)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in db.session.execute(
            text(f"EXPLAIN QUERY PLAN {compiled}")))  # noqa: S608
        assert "COVERING INDEX ix_report_durations_department_id_bucket" in plan, plan
        assert "at>? AND at<?" in plan, plan
