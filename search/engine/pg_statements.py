"""The PostgreSQL backend's SQL: the index rows it writes and the one statement a search
runs (``search.engine.postgres_backend`` executes them).

The window statement reads the newest (or oldest) matches up to the window, then the total,
the page (ranked by ``ts_rank_cd`` or by date) with its stored text and the facet counts —
all from the one WHERE clause of ``where_clause``, so no count or facet sees a document the
viewer may not find.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from search.engine.pg_filters import (
    FILTERED_MATCH,
    alternatives,
    filter_lexemes,
    filter_tsquery,
)
from search.engine.pg_periods import period_lexemes
from search.engine.pg_query import EVERYTHING, tsvector_literal
from search.engine.types import Document, FilterValue, SearchRequest

SORT_KEY = re.compile(r"[a-z_]{1,40}")

UPSERT = text(
    """
    INSERT INTO search_documents
        (kind, doc_id, fingerprint, tsv, texts, filters, dates, access, updated_at)
    VALUES (:kind, :doc_id, :fingerprint, CAST(:tsv AS tsvector), CAST(:texts AS jsonb),
            CAST(:filters AS jsonb), CAST(:dates AS jsonb), CAST(:access AS text[]),
            now() AT TIME ZONE 'utc')
    ON CONFLICT (kind, doc_id) DO UPDATE SET
        fingerprint = EXCLUDED.fingerprint, tsv = EXCLUDED.tsv, texts = EXCLUDED.texts,
        filters = EXCLUDED.filters, dates = EXCLUDED.dates, access = EXCLUDED.access,
        updated_at = EXCLUDED.updated_at
    WHERE search_documents.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint
    """
)

COPY = (
    "COPY search_documents (kind, doc_id, fingerprint, tsv, texts, filters, dates, access, "
    "updated_at) FROM STDIN"
)
# The table's GIN indexes as the migration made them (dropped and remade around a first
# build); the name and the statement that creates it.
GIN_INDEXES = text(
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
    "AND tablename = 'search_documents' AND indexdef LIKE '% USING gin %' ORDER BY indexname"
)


def date_key(value: datetime | None) -> str | None:
    """A UTC datetime as fixed-width text, so text order is time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def filter_values(value: FilterValue | list[FilterValue] | None) -> list[FilterValue]:
    if value is None:
        return []
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    return [v for v in values if v is not None]


# The date the window is read along (the one ``ix_search_documents_kind_created_at``
# indexes; its year, month and day are lexemes of ``tsv`` too: ``search.engine.pg_periods``).
INDEXED_DATE = "created_at"
# The words' clause of ``where_clause``, and the same ANDed with periods of the indexed date.
WORDS_MATCH = "tsv @@ CAST(:tsquery AS tsquery)"
PERIODS_MATCH = "tsv @@ CAST(:period_tsquery AS tsquery)"


def row_of(document: Document) -> dict[str, Any]:
    """The ``search_documents`` row of ``document`` (parameters of ``UPSERT``)."""
    periods = period_lexemes(date_key(document.dates.get(INDEXED_DATE)))
    words = tsvector_literal(document)
    filters = json.dumps(
        {k: filter_values(v) for k, v in document.filters.items()},
        ensure_ascii=False,
        default=str,
    )
    tsv = " ".join(part for part in (words, filter_lexemes(filters), periods) if part)
    return {
        "kind": document.kind,
        "doc_id": document.id,
        "fingerprint": document.fingerprint(),
        "tsv": tsv,
        "texts": json.dumps({k: v for k, v in document.text.items() if v}, ensure_ascii=False),
        "filters": filters,
        "dates": json.dumps({k: date_key(v) for k, v in document.dates.items() if v}),
        "access": sorted(set(document.access)),
    }


def chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def estimate(conn: Any, where: str, params: dict[str, Any]) -> tuple[float, float]:
    """The planner's guess of the rows ``where`` matches, and the table's rows."""
    plan = conn.execute(
        text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_documents WHERE {where}"),  # noqa: S608
        params,
    ).scalar_one()
    rows = conn.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass")
    ).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"]), float(rows)


_FILTER_ROWS: dict[str, tuple[float, float]] = {}  # clause -> (rows, when), per process
FILTER_ROWS_KEPT_S = 600


def filter_rows(conn: Any, kind: str, name: str, values: Any) -> float:
    """The planner's guess of the rows of ``kind`` one filter keeps (kept ten minutes)."""
    clause, params = filter_clause(name, values, 0)
    params["kind"] = kind
    key = json.dumps([clause, params], sort_keys=True, default=str)
    now = time.monotonic()
    known = _FILTER_ROWS.get(key)
    if known is None or now - known[1] > FILTER_ROWS_KEPT_S:
        if len(_FILTER_ROWS) > 10_000:
            _FILTER_ROWS.clear()
        rows, _table = estimate(conn, f"kind = :kind AND {clause}", params)
        known = _FILTER_ROWS[key] = (rows, now)
    return known[0]


def is_common(conn: Any, where: str, params: dict[str, Any], window: int, share: float) -> bool:
    """Whether the planner expects at least ``share`` of the table to match.

    Then the window is read along the date index, stopping after ``window``
    matches; otherwise the matches are found through the GIN indexes and sorted. The
    planner would choose by itself, but it guesses a word it keeps no statistics for
    at ~2 % of the rows: a word in 0.2 % of a million cases then walked 460,000 rows
    along the date index (2 s) where the GIN index finds its 2,000 at once.
    """
    expected, rows = estimate(conn, where, params)
    return expected >= max(share * rows, window)  # fewer fit the window


# The indexed date's equi-depth quantiles as ANALYZE left them (the planner's own
# histogram of the index's expression: 100 buckets of as many rows), else its first and
# last value.
DATE_QUANTILES = text(
    "SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = current_schema() "
    "AND tablename = 'ix_search_documents_kind_created_at' AND attname = 'expr'"
)
DATE_BOUNDS = text(
    "SELECT min(dates ->> 'created_at'), max(dates ->> 'created_at') "
    "FROM search_documents WHERE kind = :kind"
)


def date_quantiles(conn: Any, kind: str) -> list[str]:
    """Date keys that cut the indexed dates into parts of equal rows (at least the first
    and the last), ascending; [] when there are none."""
    bounds = conn.execute(DATE_QUANTILES).scalar()
    if not bounds or len(bounds) < 3:
        bounds = [v for v in conn.execute(DATE_BOUNDS, {"kind": kind}).one() if v]
    return sorted(bounds)


def probe_edge(quantiles: list[str], share: float, oldest: bool) -> str | None:
    """The date key that leaves about ``share`` of the rows on the window's side (the
    newest end; the oldest for "oldest first"), between ``date_quantiles`` (rows spread
    evenly in time within a part); None if there is no span."""
    if len(quantiles) < 2 or quantiles[0] >= quantiles[-1]:
        return None
    place = share * (len(quantiles) - 1)
    if not oldest:
        place = len(quantiles) - 1 - place
    place = min(max(place, 0.0), len(quantiles) - 1.0)
    i = min(int(place), len(quantiles) - 2)
    start, end = (datetime.fromisoformat(v).replace(tzinfo=UTC) for v in quantiles[i : i + 2])
    return date_key(start + (end - start) * (place - i))


def share_beyond(quantiles: list[str], key: str, oldest: bool) -> float:
    """About the share of the rows at or after ``key`` (before it, ``oldest``), from
    ``date_quantiles`` (rows spread evenly in time within a part)."""
    if len(quantiles) < 2:
        return 1.0
    parts = len(quantiles) - 1
    below = 0.0  # parts before key
    for i in range(parts):
        start, end = quantiles[i], quantiles[i + 1]
        if key >= end:
            below += 1.0
        elif key > start:
            lo, hi, at = (datetime.fromisoformat(v).replace(tzinfo=UTC).timestamp()
                          for v in (start, end, key))
            below += (at - lo) / (hi - lo) if hi > lo else 0.0
            break
        else:
            break
    return below / parts if oldest else 1.0 - below / parts


def probe_where(request: SearchRequest, where: str) -> str:
    """``where`` and the window's side of ``:probe_edge`` on the indexed date. Newest
    first puts the matches without the date first (DESC: NULLS FIRST), so the range keeps
    them; oldest first puts them last."""
    if request.sort_date != INDEXED_DATE:
        raise ValueError("a date probe reads the indexed date only")
    sort_at = f"dates ->> '{INDEXED_DATE}'"
    if request.sort == "oldest":
        return f"{where} AND {sort_at} <= :probe_edge"
    return f"{where} AND ({sort_at} >= :probe_edge OR {sort_at} IS NULL)"


def probe_count(request: SearchRequest, where: str) -> Any:
    """How many rows match on the window's side of ``:probe_edge`` (the GIN bitmap ANDed
    with the date range: only those rows are read)."""
    return text(f"SELECT count(*) FROM search_documents WHERE {probe_where(request, where)}")  # noqa: S608


def window_statement(
    request: SearchRequest, where: str, matched: bool, along_dates: bool = True,
    probe: bool = False,
) -> Any:
    """One statement: the window of matches (the newest ``window``, or the oldest,
    read newest-first along ``ix_search_documents_kind_created_at`` when the words are
    common and through the GIN index when they are rare), then its total, the page
    (ranked by ``ts_rank_cd`` or by date) with its stored text, and its facet counts.

    ``probe``: only the matches on the window's side of ``:probe_edge`` (a range of the
    date index ANDed with the GIN bitmap, so only they are read and sorted). When more
    than the window match there, the window is the one the whole table gives (every
    match beyond the edge is older, or newer for "oldest first"); else the caller asks
    again with a wider range."""
    # Ranked by relevance: the matches carry their row's address (``ctid``), not their
    # ~2.4 KB tsvector, through the sorts (copying it there cost more than the scan: a word
    # in 4,446 cases, 29 → 18 ms), and the window's rows are read back by address (a TID scan,
    # no index; the statement's one snapshot sees the same row version) for ``ts_rank_cd``;
    # sorted by date: only the page's rows are scored (their score is still reported).
    ranked = matched and request.sort not in ("newest", "oldest")
    rank = "ts_rank_cd({}.tsv, CAST(:tsquery AS tsquery))"
    order = {
        "newest": "sort_at DESC NULLS LAST, doc_id DESC",
        "oldest": "sort_at ASC NULLS LAST, doc_id ASC",
    }.get(request.sort, "score DESC, sort_at DESC NULLS LAST, doc_id DESC")
    # The date key is written into the statement (the index is on the expression); it
    # comes from code, never from the user, and is checked all the same.
    if not SORT_KEY.fullmatch(request.sort_date):
        raise ValueError(f"not a date key: {request.sort_date!r}")
    sort_at = f"dates ->> '{request.sort_date}'"
    # ``|| ''`` changes no value but keeps the planner off the date index (``is_common``).
    window_key = sort_at if along_dates else f"({sort_at} || '')"
    direction = "ASC" if request.sort == "oldest" else "DESC"
    texts = "d.texts" if request.highlight else "NULL::jsonb"
    page_score = rank.format("d") if matched and not ranked else "p.score"
    parts = [
        "SELECT 0, count(*), NULL::integer, NULL::float8, NULL::text, NULL::jsonb, "
        "NULL::jsonb FROM fetched",
        f"SELECT 1, p.rn, p.doc_id, {page_score}, NULL, NULL, {texts} FROM page AS p "  # noqa: S608
        "JOIN search_documents AS d ON d.kind = :kind AND d.doc_id = p.doc_id",
    ]
    for i, _name in enumerate(request.facets):  # grouped by each document's value list
        parts.append(
            f"SELECT 2, count(*), NULL, NULL, :facet_{i}, filters -> :facet_{i}, NULL "  # noqa: S608
            f"FROM matched GROUP BY filters -> :facet_{i}"
        )
    filters = (", filters" if request.facets else "") + (", ctid AS row_id" if ranked else "")
    # ``fetched`` holds one row more than the window, to tell "exactly" from "more";
    # only the window's rows are ranked (``ts_rank_cd`` reads each one's tsvector).
    scored = (
        f"SELECT m.doc_id, m.sort_at, {rank.format('r')} AS score FROM matched AS m "  # noqa: S608
        "JOIN search_documents AS r ON r.ctid = m.row_id"
        if ranked else "SELECT doc_id, sort_at, 0.0 AS score FROM matched"
    )
    if probe:
        where = probe_where(request, where)
    return text(
        "WITH fetched AS MATERIALIZED ("  # noqa: S608 (our own clauses; values bound)
        f"SELECT doc_id, {sort_at} AS sort_at{filters} "
        f"FROM search_documents WHERE {where} "
        f"ORDER BY {window_key} {direction}, doc_id {direction} LIMIT :window + 1), "
        "matched AS MATERIALIZED (SELECT * FROM fetched "
        f"ORDER BY sort_at {direction}, doc_id {direction} LIMIT :window), "
        f"scored AS ({scored}), "
        f"page AS (SELECT doc_id, score, row_number() OVER (ORDER BY {order}) AS rn "
        f"FROM scored ORDER BY {order} LIMIT :limit OFFSET :offset) "
        + " UNION ALL ".join(parts)
    )


def filter_clause(name: str, values: Any, i: int, indexed: bool = True
                  ) -> tuple[str, dict[str, Any]]:
    """Any of ``values`` of filter ``name``: through the GIN index on ``filters``
    (``filters @> {"name": [v]}``), or, not ``indexed``, checked on each row the other
    clauses leave (``filters -> 'name' @> [v]``: the same rows)."""
    params: dict[str, Any] = {}
    options = []
    for j, value in enumerate(v for val in values for v in alternatives(val)):
        key = f"filter_{i}_{j}"
        if indexed:
            params[key] = json.dumps({name: [value]}, ensure_ascii=False)
            options.append(f"filters @> CAST(:{key} AS jsonb)")
        else:
            params[key] = json.dumps([value], ensure_ascii=False)
            options.append(f"filters -> :filter_{i} @> CAST(:{key} AS jsonb)")
    if not indexed:
        params[f"filter_{i}"] = name
    return "(" + " OR ".join(options) + ")", params


def where_clause(
    request: SearchRequest, tsquery: str, unindexed: frozenset[str] = frozenset(),
    folded: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, Any]]:
    """The one WHERE clause of a search; the filters named in ``unindexed`` are checked
    row by row (a filter most rows pass: its GIN bitmap costs more than it saves), those
    in ``folded`` are ANDed into the words' ``tsquery`` as lexemes (``pg_filters``: the
    GIN index intersects them with the words before any row is read)."""
    clauses = ["kind = :kind", "access && CAST(:access AS text[])"]
    params: dict[str, Any] = {"kind": request.kind, "access": sorted(set(request.access))}
    lexemes = []
    for name in sorted(folded):
        part = filter_tsquery(name, request.filters.get(name) or ())
        if part is None:
            raise ValueError(f"filter {name!r} cannot be folded into the tsquery")
        lexemes.append(part)
    if tsquery != EVERYTHING:
        params["tsquery"] = tsquery
        if lexemes:
            clauses.append(FILTERED_MATCH)
            params["filtered_tsquery"] = " & ".join([f"({tsquery})", *lexemes])
        else:
            clauses.append(WORDS_MATCH)
    elif lexemes:
        raise ValueError("filters are folded into the words' tsquery only")
    for i, (name, values) in enumerate(sorted(request.filters.items())):
        if not values or name in folded:
            continue  # an empty choice is no filter
        clause, values_params = filter_clause(name, values, i, name not in unindexed)
        clauses.append(clause)
        params.update(values_params)
    for i, (name, (start, end)) in enumerate(sorted(request.date_ranges.items())):
        params[f"date_{i}"] = name
        if start is not None:
            clauses.append(f"dates ->> :date_{i} >= :date_{i}_from")
            params[f"date_{i}_from"] = date_key(start)
        if end is not None:
            clauses.append(f"dates ->> :date_{i} <= :date_{i}_to")
            params[f"date_{i}_to"] = date_key(end)
    return " AND ".join(clauses), params
