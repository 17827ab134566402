"""Periods of the indexed date as lexemes (PostgreSQL backend, ``search.engine.pg_periods``):
the rows carry them, migration 0015's SQL writes the same ones, and a window read from the
newest (oldest) days only is the window the whole table gives."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from search.engine.pg_periods import PERIODS_SQL, period_lexemes, period_tsquery
from search.engine.pg_statements import date_key, row_of, share_beyond
from search.engine.types import SearchRequest
from tests.test_search_backends import (  # noqa: F401  (fixtures)
    KIND,
    STAFF,
    backend,
    indexed,
    pg_engine,
    ticket,
    when,
)


def test_a_rows_periods_are_its_month_and_day():
    assert period_lexemes(date_key(when(11, 30))) == "'@2026' '@2026-11' '@2026-11-30'"
    assert period_lexemes(None) == "'@none'"
    row = row_of(ticket(1, "积水", created=when(3, 6)))
    assert row["tsv"].endswith(" '@2026' '@2026-03' '@2026-03-06'")
    undated = replace(ticket(2, "积水", created=when(3, 6)), dates={})
    assert row_of(undated)["tsv"].endswith(" '@none'")


def test_the_periods_on_the_windows_side_of_an_edge():
    """Newest first: the undated, the edge's days to its month's end, the months to its
    year's end, then whole years to the year after the newest (a row filed meanwhile still
    counts); oldest first: the other way round, from the year before the oldest. Every row
    on that side: None (the whole table is read)."""
    low, high = date_key(when(1, 5)), date_key(when(6, 3))
    months = " | ".join(f"'@2026-{m:02d}'" for m in range(4, 13))
    newest = period_tsquery(date_key(when(3, 28)), low, high, oldest=False)
    assert newest == ("('@none' | '@2026-03-28' | '@2026-03-29' | '@2026-03-30' | "
                      f"'@2026-03-31' | {months} | '@2027')")
    assert period_tsquery(date_key(when(10, 1)), low, high, oldest=False) == (
        "('@none' | '@2026-10' | '@2026-11' | '@2026-12' | '@2027')")
    assert period_tsquery(date_key(when(12, 30)), low, high, oldest=False) == (
        "('@none' | '@2026-12-30' | '@2026-12-31' | '@2027')")
    oldest = period_tsquery(date_key(when(3, 3)), low, high, oldest=True)
    assert oldest == ("('@2025' | '@2026-01' | '@2026-02' | '@2026-03-01' | '@2026-03-02' | "
                      "'@2026-03-03')")
    assert period_tsquery(date_key(when(1, 31)), low, high, oldest=True) == (
        "('@2025' | '@2026-01')")
    assert period_tsquery(date_key(datetime(2025, 12, 30, tzinfo=UTC)),
                          date_key(datetime(2024, 5, 1, tzinfo=UTC)),
                          date_key(datetime(2027, 2, 1, tzinfo=UTC)), oldest=False) == (
        "('@none' | '@2025-12-30' | '@2025-12-31' | '@2026' | '@2027' | '@2028')")
    assert period_tsquery(date_key(when(1, 1)), date_key(datetime(2025, 5, 1, tzinfo=UTC)),
                          high, oldest=False) == "('@none' | '@2026' | '@2027')"
    assert period_tsquery(date_key(datetime(2025, 12, 31, tzinfo=UTC)),
                          date_key(datetime(2024, 5, 1, tzinfo=UTC)),
                          high, oldest=True) == "('@2023' | '@2024' | '@2025')"
    assert period_tsquery(date_key(datetime(2300, 1, 2, tzinfo=UTC)), low,
                          date_key(datetime(2400, 1, 1, tzinfo=UTC)), oldest=False) is None
    assert period_tsquery(low, low, high, oldest=False) is None
    assert period_tsquery(high, low, high, oldest=True) is None


def test_the_share_of_rows_beyond_a_date():
    quantiles = [date_key(when(1, 1)), date_key(when(3, 1)), date_key(when(3, 11))]
    assert share_beyond(quantiles, date_key(when(3, 6)), oldest=False) == 0.25
    assert share_beyond(quantiles, date_key(when(3, 6)), oldest=True) == 0.75
    assert share_beyond(quantiles, date_key(when(12, 1)), oldest=False) == 0.0
    assert share_beyond(quantiles, date_key(when(1, 1)), oldest=False) == 1.0


def test_postgresql_migration_sql_writes_the_same_periods(indexed):  # noqa: F811
    """Migration 0015 adds the periods to an older index with its copy of ``PERIODS_SQL``:
    the lexemes ``row_of`` writes."""
    path = Path(__file__).parents[1] / "portal/migrations/versions"
    spec = importlib.util.spec_from_file_location(
        "layout", path / "0015_c11a5e4f0d15_search_layout.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PERIODS_SQL == PERIODS_SQL
    if indexed.name != "postgresql":
        return
    undated = replace(ticket(7, "电梯积水", created=when(1, 1)), dates={"created_at": None})
    indexed.index([undated])
    with indexed.engine.connect() as conn:
        rows = conn.execute(text(
            f"SELECT doc_id, dates ->> 'created_at', ({PERIODS_SQL})::text "  # noqa: S608
            "FROM search_documents ORDER BY doc_id")).all()
        assert len(rows) == 7
        for doc_id, key, periods in rows:
            expected = conn.execute(text("SELECT CAST(:lit AS tsvector)::text"),
                                    {"lit": period_lexemes(key)}).scalar_one()
            assert periods == expected, doc_id


def test_postgresql_periods_find_the_same_window(indexed, monkeypatch):  # noqa: F811
    """A window read from the newest (oldest) days only — the words ANDed with the days'
    lexemes, widened until it fills — gives the page, scores, total and facets the whole
    table gives, for every order and viewer; when it never fills, every match is read."""
    if indexed.name != "postgresql":
        return
    from search.engine import pg_statements, postgres_backend

    monkeypatch.setattr(postgres_backend, "MATCH_WINDOW", 1)
    monkeypatch.setattr(postgres_backend, "PERIOD_MARGIN", 0.05)  # start narrow, widen
    monkeypatch.setattr(postgres_backend, "PERIOD_LIMIT", 100.0)
    monkeypatch.setattr(postgres_backend, "PERIOD_FROM", 0)  # widen however few match
    narrowed = []

    def spy(*args, **kw):
        narrowed.append(pg_statements.PERIODS_MATCH in args[1])
        return pg_statements.window_statement(*args, **kw)

    monkeypatch.setattr(postgres_backend, "window_statement", spy)
    undated = replace(ticket(7, "电梯积水", created=when(1, 1)), dates={"created_at": None})
    indexed.index([undated])  # no date: first when newest first, last when oldest first
    with indexed.engine.begin() as conn:
        conn.execute(text("ANALYZE search_documents"))
    questions = [("故障", "oldest"), ("故障", "newest"), ("电梯 OR 积水 OR light", "relevance"),
                 ("电梯 OR 积水", "newest"), ("电梯 OR 积水", "oldest"), ("积水", "relevance")]
    answers: dict = {}
    for path in ("gin", "probe"):
        monkeypatch.setattr(postgres_backend, "window_path", lambda *a, p=path: p)
        narrowed.clear()
        for query, sort in questions:
            for access in (STAFF, ("dept:2", "dept:9")):
                response = indexed.search(SearchRequest(
                    kind=KIND, query=query, access=access, sort=sort, facets=("status",),
                    filters={"tag": ("a",)}, highlight=("title",)))
                answers.setdefault((query, sort, access), []).append((
                    [(h.id, h.score, h.highlights) for h in response.hits], response.total,
                    response.exact, dict(response.facets["status"])))
        if path == "gin":
            assert not any(narrowed)
    for key, (plain, by_periods) in answers.items():
        assert plain == by_periods, key
    assert 0 < sum(narrowed) < len(narrowed)  # some windows filled from days, some never
    assert [h[0] for h in answers[("电梯 OR 积水", "newest", STAFF)][1][0]] == [7]
    assert [h[0] for h in answers[("电梯 OR 积水", "oldest", STAFF)][1][0]] == [1]
