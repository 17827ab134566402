"""The PostgreSQL search backend (``SEARCH_BACKEND = "postgresql"``).

For deployments with several application servers: the index is a table of the database
every server already shares (``search_documents``, migration 0009), so there is no index
directory to share, no writer lock, and an index write is an ordinary transaction.

- ``index``: ``INSERT ... ON CONFLICT (kind, doc_id) DO UPDATE`` in batches, rows in key
  order (two writers never wait on each other in a cycle), skipping unchanged rows (same
  fingerprint: no dead tuple, no GIN churn);
- ``search``: one WHERE clause — kind, the viewer's access keys (``access && keys``), the
  ``tsquery`` (``search.engine.pg_query``; with words, the filters as lexemes in it,
  ``pg_filters``), other filters (``filters @> {"f": [v]}``), date ranges — shared by the
  total, the page and the facet counts (no count sees a document the viewer may not find);
- highlights are computed in Python on the page's stored text with the engine's own
  ``highlight`` (``ts_headline`` would re-parse Chinese with PostgreSQL's parser, which
  cannot cut it, and could not mark a word inside a run of characters).
Writes commit at once on their own connection; searches read in a short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal.db import db
from search.engine import registry
from search.engine.pg_filters import FILTERED_MATCH, foldable
from search.engine.pg_hits import page_hits
from search.engine.pg_periods import day_start, period_tsquery
from search.engine.pg_query import EVERYTHING, NOTHING, Compiler
from search.engine.pg_statements import (  # noqa: F401  (row_of: bulk builds read it here)
    COPY,
    DATE_BOUNDS,
    GIN_INDEXES,
    INDEXED_DATE,
    PERIODS_MATCH,
    UPSERT,
    WORDS_MATCH,
    chunks,
    date_quantiles,
    estimate,
    filter_rows,
    probe_count,
    probe_edge,
    row_of,
    share_beyond,
    where_clause,
    window_statement,
)
from search.engine.query import parse
from search.engine.types import Document, FilterValue, SearchRequest, SearchResponse

BATCH = 500
MAX_WINDOW = 10_000  # deepest result a page may reach (page * per_page), as with Whoosh
# The most matches one search reads: the newest MATCH_WINDOW (oldest, for "oldest first")
# are counted, faceted and ranked; beyond it the total says "more than" (``exact=False``;
# ranking and counting every match of a word in half of a million cases took 17 s).
MATCH_WINDOW = 1_000
# Read the window along the date index when at least this share of the table is expected to
# match (``window_path``): walking it reads about window / share rows, each a heap fetch.
COMMON_SHARE = 0.2
# ... or when the words alone (without unselective filters) match this share: building
# their GIN bitmap (~1 µs a match: 小区, in half the cases, ~0.5 s) costs more than the walk.
BIG_WORDS = 0.1
# Browsing without words (a department's cases, a status): rows were mostly written in date
# order, so the walk reads neighbouring rows; from 3 % it beat the probe (handler: 77 vs 104 ms).
BROWSE_SHARE = 0.03
# Below it, browsing with at least PROBE_FROM matches expected, a date probe (``_probe``):
# the matches among the newest PROBE_FIRST of the rows are counted first (the GIN bitmap
# ANDed with a range of the date index), which tells about how many match in all. Fewer
# than PROBE_PLAIN windows: the GIN indexes alone and a sort (cheaper than a wide range of
# the date index, ~1 µs an entry). Else the window is read from the newest share of the
# rows that should hold PROBE_MARGIN windows, widened PROBE_GROWTH-fold if it does not
# fill; from PROBE_LIMIT of the rows, the whole table.
PROBE_FROM = 3 * MATCH_WINDOW
PROBE_FIRST = 0.02
PROBE_PLAIN = 10
PROBE_MARGIN = 2.0
PROBE_GROWTH = 2.0
PROBE_LIMIT = 0.25
# With words, the window is read from the newest days instead (``_periods``: their lexemes
# narrow the GIN scan, no range of the date index) when at least PERIOD_FROM matches are
# expected: days that should hold PERIOD_MARGIN windows, up to PERIOD_LIMIT of the rows.
# GIN reads the days' lists of rows (~0.3 µs a row of those days), a match costs a heap
# fetch (2-8 µs): below ~6 windows of matches reading them all costs less (measured by
# CPU time per search at 1,000,000: 4, 5, 6, 8 and 16 windows, docs/SEARCH.md).
PERIOD_FROM = 6 * MATCH_WINDOW
PERIOD_MARGIN = 1.5
PERIOD_LIMIT = 0.5
# A filter expected to keep at least this share of the table may be checked row by row
# (``PostgresBackend._window``); a heap fetch costs about ROW_COST bitmap entries.
SELECTIVE_SHARE = 0.02
ROW_COST = 20
FOLD_FILTERS = True  # with words, filters with lexemes join the words' tsquery (pg_filters)
STATEMENT_TIMEOUT_MS = 10_000  # a search that takes longer is cut off, not left running

# Per search transaction: a time limit; no JIT (compiling took 100-250 ms); room to sort.
SETTINGS = text(
    "SELECT set_config('statement_timeout', :timeout, true), set_config('jit', 'off', true), "
    "set_config('work_mem', '32MB', true)"
)

class PostgresBackend:
    """``SearchBackend`` on the ``search_documents`` table (PostgreSQL only)."""

    name = "postgresql"

    def __init__(self, engine: Engine | None = None, batch: int = BATCH) -> None:
        self._engine = engine
        self.batch = batch
        self._fields: dict[str, set[str]] = {}  # kind -> text fields seen (known_fields)

    @property
    def engine(self) -> Engine:
        """The given engine, or the application's (inside an app context)."""
        engine = self._engine if self._engine is not None else db.engine
        if engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND = 'postgresql' needs a PostgreSQL database")
        return engine

    # --- writing ------------------------------------------------------------------------

    def index(self, documents: Iterable[Document]) -> None:
        """Add or replace ``documents`` (upserts; the last of two with one key wins)."""
        latest = {(d.kind, d.id): d for d in documents}
        for document in latest.values():
            if document.kind in self._fields:
                self._fields[document.kind].update(f for f, v in document.text.items() if v)
        rows = [row_of(latest[key]) for key in sorted(latest)]
        for chunk in chunks(rows, self.batch):
            with self.engine.begin() as conn:
                conn.execute(UPSERT, chunk)

    def replace_kind(self, kind: str, chunks: Iterable[list[dict[str, Any]]]) -> None:
        """A rebuild of ``kind``: its rows (``row_of``, in chunks) replace every row of
        the kind in one transaction (searches see the old index until it commits),
        loaded with COPY (several times faster than upserts)."""
        self._fields.pop(kind, None)  # read again after the rebuild
        with self.engine.begin() as conn:
            # An empty table (a first build): its GIN indexes are dropped and built again
            # after the load, several times faster than growing them row by row. Never on
            # a table in use: the drop would lock searches out until the commit.
            rebuilt = []
            if conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM search_documents)")).scalar():
                rebuilt = list(conn.execute(GIN_INDEXES))
                conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
                for name, _definition in rebuilt:
                    conn.execute(text(f'DROP INDEX "{name}"'))
            conn.execute(text("DELETE FROM search_documents WHERE kind = :kind"), {"kind": kind})
            stamp = conn.execute(text("SELECT now() AT TIME ZONE 'utc'")).scalar_one()
            cursor = conn.connection.dbapi_connection.cursor()  # psycopg's COPY
            try:
                for rows in chunks:
                    with cursor.copy(COPY) as copy:
                        for row in rows:
                            copy.write_row((row["kind"], row["doc_id"], row["fingerprint"],
                                            row["tsv"], row["texts"], row["filters"],
                                            row["dates"], row["access"], stamp))
            finally:
                cursor.close()
            for _name, definition in rebuilt:
                conn.execute(text(definition))
        # The new rows' statistics at once: without them the planner guessed 5,000 matches
        # for any word (a search of 路灯 took 2 s at a million cases instead of 40 ms).
        with self.engine.begin() as conn:
            conn.execute(text("ANALYZE search_documents"))

    def delete(self, kind: str, ids: Iterable[int]) -> None:
        """Remove these documents if present."""
        ids = sorted(set(ids))
        for start in range(0, len(ids), self.batch * 10):
            with self.engine.begin() as conn:
                conn.execute(
                    text("DELETE FROM search_documents WHERE kind = :kind AND doc_id = ANY(:ids)"),
                    {"kind": kind, "ids": ids[start : start + self.batch * 10]},
                )

    def clear(self, kind: str | None = None) -> None:
        """Remove every document (of ``kind``)."""
        with self.engine.begin() as conn:
            if kind is None:
                conn.execute(text("DELETE FROM search_documents"))
            else:
                conn.execute(
                    text("DELETE FROM search_documents WHERE kind = :kind"), {"kind": kind}
                )

    def fingerprints(self, kind: str) -> dict[int, str]:
        """Every indexed document of ``kind``: id -> fingerprint."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT doc_id, fingerprint FROM search_documents WHERE kind = :kind"),
                {"kind": kind},
            )
            return {doc_id: fingerprint for doc_id, fingerprint in rows}

    # --- reading ------------------------------------------------------------------------

    def known_fields(self, kind: str) -> tuple[str, ...]:
        """The text fields the index holds for ``kind`` (when its source declares none):
        read once per process (fields only change with the code)."""
        if kind not in self._fields:
            with self.engine.connect() as conn:
                names = conn.execute(
                    text("SELECT DISTINCT jsonb_object_keys(texts) FROM search_documents "
                         "WHERE kind = :kind"),
                    {"kind": kind},
                ).scalars()
                found = set(names)
            if not found:  # nothing indexed yet: ask again next time
                return ()
            self._fields[kind] = found
        return tuple(sorted(self._fields[kind]))

    def search(self, request: SearchRequest) -> SearchResponse:
        """Answer ``request`` within the viewer's access keys (totals and facets too)."""
        empty = SearchResponse(total=0, hits=[], facets={name: {} for name in request.facets})
        declared = request.fields if request.fields is not None else registry.text_fields(
            request.kind
        )
        searched = declared if declared is not None else self.known_fields(request.kind)
        exact = registry.exact_fields(request.kind)
        allowed = None if declared is None else frozenset(declared) | frozenset(exact or ())
        tree = parse(request.query, allowed)  # QuerySyntaxError for what cannot be read
        compiler = Compiler(request.kind, searched, exact)
        tsquery = compiler.compile(tree)
        if not request.access or tsquery == NOTHING:
            return empty
        # With words, filters with lexemes are checked in the GIN index with them.
        folded = foldable(request.filters) if FOLD_FILTERS and tsquery != EVERYTHING else (
            frozenset())
        where, params = where_clause(request, tsquery, folded=folded)
        per_page = max(1, request.per_page)
        offset = (max(1, request.page) - 1) * per_page
        extra = dict(
            sort_date=request.sort_date,
            offset=offset,
            limit=max(0, min(per_page, MAX_WINDOW - offset)),
            window=MATCH_WINDOW,
            **{f"facet_{i}": name for i, name in enumerate(request.facets)},
        )
        with self.engine.connect() as conn:
            conn.execute(SETTINGS, {"timeout": str(STATEMENT_TIMEOUT_MS)})
            expected, table = estimate(conn, where, params)
            # A filter most rows pass (one status: ~20 %) may be checked row by row on what
            # the words leave instead of through its GIN index, whose bitmap holds every
            # row of that status (~200,000 at a million: 100-300 ms); ``_window`` chooses.
            shares = {
                name: filter_rows(conn, request.kind, name, values) / max(table, 1.0)
                for name, values in request.filters.items() if values and name not in folded
            }
            unselective = frozenset(n for n, share in shares.items() if share >= SELECTIVE_SHARE)
            kept = 1.0  # the share of the rows the unselective filters keep (independent)
            for name in unselective:
                kept *= shares[name]
            by_rows = where_clause(request, tsquery, unselective, folded) if unselective else (
                where, params)
            for clause_params in (params, by_rows[1]):
                clause_params.update(extra)
            rows = self._window(conn, request, (where, params), by_rows, kept,
                                tsquery != EVERYTHING, expected, table)
            total, page = 0, []
            facets: dict[str, dict[FilterValue, int]] = {name: {} for name in request.facets}
            for part, n, doc_id, score, facet, values, stored in rows:
                if part == 0:
                    total = n
                elif part == 1:
                    page.append((n, doc_id, score, stored))
                else:  # a document's list of values, and how many documents have it
                    for value in dict.fromkeys(values or ()):
                        facets[facet][value] = facets[facet].get(value, 0) + n
        page.sort(key=lambda row: row[0])
        hits = page_hits(request, tree, [row[1:] for row in page])
        facets = {
            name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))
            for name, counts in facets.items()
        }
        exact = total <= MATCH_WINDOW
        return SearchResponse(total=min(total, MATCH_WINDOW), hits=hits, facets=facets,
                              exact=exact)

    def _window(
        self, conn: Any, request: SearchRequest, indexed: tuple[str, dict[str, Any]],
        by_rows: tuple[str, dict[str, Any]], kept: float, matched: bool,
        expected: float, table: float,
    ) -> list[Any]:
        """The window statement's rows, read the cheapest way for how many are expected to
        match (``window_path``): along the date index (common), through the GIN indexes
        after a range of the date index (a date probe, ``PROBE_*``), or through the GIN
        indexes alone (rare). ``indexed``: the WHERE clause with every filter through its
        index; ``by_rows``: with the unselective ones (keeping ``kept`` of the rows)
        checked row by row, as they are along the dates and within a probe's range."""
        words_alone = expected / max(kept, 1e-9)
        path = window_path(expected, table, words_alone, matched)
        if path == "dates":
            return list(conn.execute(window_statement(request, by_rows[0], matched, True),
                                     by_rows[1]))
        if path == "probe" and request.sort_date == INDEXED_DATE:
            read = self._periods if matched else self._probe
            rows, guess = read(conn, request, *by_rows, expected)
            if rows is not None:
                return rows
            if guess is not None:
                words_alone = guess / max(kept, 1e-9)
        # Every match is read: row by row, the unselective filters cost a heap fetch for
        # each match of the words alone; through their index, a bitmap entry for each row
        # they keep (~ROW_COST entries cost as much as a fetch).
        where, params = indexed
        if words_alone * max(0.0, 1.0 - kept) * ROW_COST < kept * table:
            where, params = by_rows
        return list(conn.execute(window_statement(request, where, matched, False), params))

    def _periods(
        self, conn: Any, request: SearchRequest, where: str, params: dict[str, Any],
        expected: float,
    ) -> tuple[list[Any] | None, float | None]:
        """The window read from the matches of the newest (oldest) days only, the words'
        ``tsquery`` ANDed with those days' lexemes (``pg_periods``: the GIN index narrows,
        so only those matches are read); None when reading every match is cheaper (with
        the matches expected in all, once counted). Days that should hold PERIOD_MARGIN
        windows first (from the planner's guess), then as many as the count of the
        first read says, or PROBE_GROWTH-fold more. The answer is the whole table's: days
        that hold more than the window hold its newest window + 1 matches."""
        quantiles = date_quantiles(conn, request.kind)
        low, high = conn.execute(DATE_BOUNDS, {"kind": request.kind}).one()
        if low is None or high is None or len(quantiles) < 2:
            return None, None
        oldest = request.sort == "oldest"
        narrowed = where.replace(WORDS_MATCH, PERIODS_MATCH).replace(FILTERED_MATCH, PERIODS_MATCH)
        words = params.get("filtered_tsquery", params["tsquery"])  # and folded filters
        share, guess = PERIOD_MARGIN * (MATCH_WINDOW + 1) / max(expected, 1.0), None
        while share < PERIOD_LIMIT:
            edge = probe_edge(quantiles, share, oldest)
            periods = period_tsquery(edge, low, high, oldest) if edge else None
            if periods is None:
                break
            rows = list(conn.execute(
                window_statement(request, narrowed, True, False),
                {**params, "period_tsquery": f"({words}) & {periods}"},
            ))
            found = sum(n for part, n, *_ in rows if part == 0)
            if found > MATCH_WINDOW:
                return rows, None
            covered = max(share_beyond(quantiles, day_start(edge, oldest), oldest), share)
            guess = max(found, 1) / covered  # matches in all, if spread evenly
            if guess < PERIOD_FROM:
                break
            share = max(share * PROBE_GROWTH, PERIOD_MARGIN * (MATCH_WINDOW + 1) / guess)
        return None, guess

    def _probe(
        self, conn: Any, request: SearchRequest, where: str, params: dict[str, Any],
        _expected: float,
    ) -> tuple[list[Any] | None, float | None]:
        """Browsing without words: the window read from a range of the newest (oldest)
        rows, or None when reading every match is cheaper (with the matches expected in
        all, if counted). The answer is the whole table's: a range that holds more than
        the window holds the newest window + 1 matches (the others are older)."""
        quantiles = date_quantiles(conn, request.kind)
        oldest = request.sort == "oldest"
        edge = probe_edge(quantiles, PROBE_FIRST, oldest)
        if edge is None:
            return None, None
        counted = conn.execute(probe_count(request, where), {**params, "probe_edge": edge})
        share, guess = PROBE_FIRST, None
        found = counted.scalar_one()
        if found <= MATCH_WINDOW:
            guess = max(found, 1) / PROBE_FIRST  # matches in all, if spread evenly
            if guess < PROBE_PLAIN * MATCH_WINDOW:
                return None, guess
            share = PROBE_MARGIN * (MATCH_WINDOW + 1) / guess
        while share < PROBE_LIMIT:
            edge = probe_edge(quantiles, share, oldest)
            rows = list(conn.execute(
                window_statement(request, where, False, False, probe=True),
                {**params, "probe_edge": edge},
            ))
            if sum(n for part, n, *_ in rows if part == 0) > MATCH_WINDOW:
                return rows, None  # the window filled: the same window the table gives
            share *= PROBE_GROWTH
        return None, guess


def window_path(expected: float, table: float, words_alone: float | None = None,
                matched: bool = True) -> str:
    """How a window is read when ``expected`` of ``table`` rows should match (``words_alone``
    without the unselective filters): ``dates`` (along the date index: common matches, or
    words whose GIN bitmap alone would be bigger than the walk, ``BIG_WORDS``; browsing
    without words from ``BROWSE_SHARE``), ``probe`` (a date range first) or ``gin``."""
    common = COMMON_SHARE if matched else BROWSE_SHARE
    if expected >= MATCH_WINDOW and (
        expected >= common * table or (words_alone or 0.0) >= BIG_WORDS * table
    ):
        return "dates"
    if expected >= (PERIOD_FROM if matched else PROBE_FROM):
        return "probe"
    return "gin"
