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
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

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


def row_of(document: Document) -> dict[str, Any]:
    """The ``search_documents`` row of ``document`` (parameters of ``UPSERT``)."""
    return {
        "kind": document.kind,
        "doc_id": document.id,
        "fingerprint": document.fingerprint(),
        "tsv": tsvector_literal(document),
        "texts": json.dumps({k: v for k, v in document.text.items() if v}, ensure_ascii=False),
        "filters": json.dumps(
            {k: filter_values(v) for k, v in document.filters.items()},
            ensure_ascii=False,
            default=str,
        ),
        "dates": json.dumps({k: date_key(v) for k, v in document.dates.items() if v}),
        "access": sorted(set(document.access)),
    }


def chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def alternatives(value: FilterValue) -> list[FilterValue]:
    """A filter value and its twin of the other type ("3" and 3): URLs bring strings."""
    if isinstance(value, bool):
        return [value]
    if isinstance(value, int):
        return [value, str(value)]
    if isinstance(value, str) and value.isdigit() and len(value) < 18:
        return [value, int(value)]
    return [value]



def is_common(conn: Any, where: str, params: dict[str, Any], window: int, share: float) -> bool:
    """Whether the planner expects at least ``share`` of the table to match.

    Then the window is read along the date index, stopping after ``window``
    matches; otherwise the matches are found through the GIN indexes and sorted. The
    planner would choose by itself, but it guesses a word it keeps no statistics for
    at ~2 % of the rows: a word in 0.2 % of a million cases then walked 460,000 rows
    along the date index (2 s) where the GIN index finds its 2,000 at once.
    """
    plan = conn.execute(
        text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_documents WHERE {where}"),  # noqa: S608
        params,
    ).scalar_one()
    expected = plan[0]["Plan"]["Plan Rows"]
    rows = conn.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass")
    ).scalar_one()
    return expected >= max(share * rows, window)  # fewer fit the window


def window_statement(
    request: SearchRequest, where: str, matched: bool, along_dates: bool = True
) -> Any:
    """One statement: the window of matches (the newest ``window``, or the oldest,
    read newest-first along ``ix_search_documents_kind_created_at`` when the words are
    common and through the GIN index when they are rare), then its total, the page
    (ranked by ``ts_rank_cd`` or by date) with its stored text, and its facet counts."""
    score = "ts_rank_cd(d.tsv, CAST(:tsquery AS tsquery))" if matched else "0.0"
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
    parts = [
        "SELECT 0, count(*), NULL::integer, NULL::float8, NULL::text, NULL::jsonb, "
        "NULL::jsonb FROM fetched",
        f"SELECT 1, p.rn, p.doc_id, p.score, NULL, NULL, {texts} FROM page AS p "  # noqa: S608
        "JOIN search_documents AS d ON d.kind = :kind AND d.doc_id = p.doc_id",
    ]
    for i, _name in enumerate(request.facets):  # grouped by each document's value list
        parts.append(
            f"SELECT 2, count(*), NULL, NULL, :facet_{i}, filters -> :facet_{i}, NULL "  # noqa: S608
            f"FROM matched GROUP BY filters -> :facet_{i}"
        )
    filters = ", filters" if request.facets else ""
    # ``fetched`` holds one row more than the window, to tell "exactly" from "more";
    # only the window's rows are ranked (``ts_rank_cd`` reads each one's tsvector).
    scored = (
        f"SELECT m.doc_id, m.sort_at, {score} AS score FROM matched AS m "  # noqa: S608
        "JOIN search_documents AS d ON d.kind = :kind AND d.doc_id = m.doc_id"
        if matched else "SELECT doc_id, sort_at, 0.0 AS score FROM matched"
    )
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


def where_clause(request: SearchRequest, tsquery: str) -> tuple[str, dict[str, Any]]:
    clauses = ["kind = :kind", "access && CAST(:access AS text[])"]
    params: dict[str, Any] = {"kind": request.kind, "access": sorted(set(request.access))}
    if tsquery != EVERYTHING:
        clauses.append("tsv @@ CAST(:tsquery AS tsquery)")
        params["tsquery"] = tsquery
    for i, (name, values) in enumerate(sorted(request.filters.items())):
        if not values:
            continue  # an empty choice is no filter
        options = []
        for j, value in enumerate(v for val in values for v in alternatives(val)):
            key = f"filter_{i}_{j}"
            params[key] = json.dumps({name: [value]}, ensure_ascii=False)
            options.append(f"filters @> CAST(:{key} AS jsonb)")
        clauses.append("(" + " OR ".join(options) + ")")
    for i, (name, (start, end)) in enumerate(sorted(request.date_ranges.items())):
        params[f"date_{i}"] = name
        if start is not None:
            clauses.append(f"dates ->> :date_{i} >= :date_{i}_from")
            params[f"date_{i}_from"] = date_key(start)
        if end is not None:
            clauses.append(f"dates ->> :date_{i} <= :date_{i}_to")
            params[f"date_{i}_to"] = date_key(end)
    return " AND ".join(clauses), params
