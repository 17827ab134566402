"""Filter values as lexemes (PostgreSQL backend, ``search.engine.pg_filters``): the rows
carry them, migration 0020's SQL writes the same ones, and a search with words that checks
its filters in the words' ``tsquery`` gives every answer the ``filters`` column gives."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

from search.engine.pg_filters import (
    FILTERS_SQL,
    filter_lexeme,
    filter_lexemes,
    filter_tsquery,
)
from search.engine.pg_statements import row_of
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

ODD = {"status": ["open"], "n": [3, 3.0, 2.5], "flag": [True, False], "s": ["3", 'a"b\\c\n'],
       "long": ["x" * 2100], "empty": [], "nested": [{"a": 1}, [1]]}


def test_a_rows_filters_are_lexemes_of_its_tsv():
    row = row_of(ticket(1, "积水", created=when(3, 6)))
    assert """'%status="open"' '%department_id=1' '%tag="a"' '%tag="t1"'""" in row["tsv"]
    assert row["tsv"].endswith(" '@2026' '@2026-03' '@2026-03-06'")  # the periods last
    assert filter_lexemes(json.dumps(ODD)) == (  # JSON's escapes, then the literal's
        r"""'%status="open"' '%n=3' '%flag=true' '%flag=false' '%s="3"' '%s="a\\"b\\\\c\\n"'""")
    assert filter_lexeme("n", 2.5) is None and filter_lexeme("long", "x" * 2100) is None


def test_a_filters_tsquery_asks_for_each_value_and_its_twin():
    """As the ``filters`` clause does: "3" and 3 are two values, a URL brings strings."""
    assert filter_tsquery("status", ("open",)) == """'%status="open"'"""
    assert filter_tsquery("department_id", ("2", 3)) == (
        """('%department_id="2"' | '%department_id=2' | '%department_id=3' | """
        """'%department_id="3"')""")
    assert filter_tsquery("flag", (True,)) == "'%flag=true'"
    assert filter_tsquery("n", (2.5,)) is None  # no lexeme: checked through ``filters``
    assert filter_tsquery("n", ()) is None


def _migration():
    path = Path(__file__).parents[1] / "portal/migrations/versions"
    (file,) = path.glob("0020_b20d5f3e8c41_*.py")
    spec = importlib.util.spec_from_file_location("filter_lexemes", file)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_postgresql_migration_sql_writes_the_same_filter_lexemes(indexed):  # noqa: F811
    """Migration 0020 adds the lexemes to an older index with its copy of ``FILTERS_SQL``:
    the lexemes ``row_of`` writes, for every kind of value."""
    assert _migration().FILTERS_SQL == FILTERS_SQL
    if indexed.name != "postgresql":
        return
    with indexed.engine.begin() as conn:
        conn.execute(text("UPDATE search_documents SET filters = CAST(:odd AS jsonb) "
                          "WHERE doc_id = 1"), {"odd": json.dumps(ODD)})
        rows = conn.execute(text(
            f"SELECT doc_id, filters::text, ({FILTERS_SQL})::text "  # noqa: S608
            "FROM search_documents ORDER BY doc_id")).all()
        assert len(rows) == 6
        for doc_id, filters, lexemes in rows:
            expected = conn.execute(text("SELECT CAST(:lit AS tsvector)::text"),
                                    {"lit": filter_lexemes(filters)}).scalar_one()
            assert lexemes == expected, doc_id
        assert "n=3" in rows[0][2] and "2.5" not in rows[0][2]


def test_postgresql_migration_adds_and_removes_the_lexemes(indexed):  # noqa: F811
    """Rows written before (no filter lexemes) get exactly those ``row_of`` writes; the
    downgrade takes them away again."""
    if indexed.name != "postgresql":
        return
    migration = _migration()
    with indexed.engine.begin() as conn:
        before = dict(conn.execute(text("SELECT doc_id, tsv::text FROM search_documents")).all())
        for bounds in migration._batches(conn):  # the downgrade's statement: none left
            conn.execute(text(
                "UPDATE search_documents SET tsv = ts_delete(tsv, ARRAY(SELECT lexeme "
                "FROM unnest(tsv) WHERE lexeme LIKE '\\%%' ESCAPE '\\')) "
                "WHERE doc_id >= :start AND doc_id < :end"), bounds)
        stripped = dict(conn.execute(text("SELECT doc_id, tsv::text FROM search_documents")).all())
        assert all("'%" not in tsv for tsv in stripped.values())
        for bounds in migration._batches(conn):
            conn.execute(text(f"UPDATE search_documents SET tsv = tsv || {FILTERS_SQL} "  # noqa: S608
                              "WHERE doc_id >= :start AND doc_id < :end"), bounds)
        after = dict(conn.execute(text("SELECT doc_id, tsv::text FROM search_documents")).all())
    assert after == before


def test_postgresql_filters_in_the_tsquery_or_in_filters_agree(indexed, monkeypatch):  # noqa: F811
    """A search with words checks its filters in the words' tsquery (``FOLD_FILTERS``) or
    through ``filters`` (its index or row by row): the same hits, scores, snippets,
    totals and facets, on every way a window is read."""
    if indexed.name != "postgresql":
        return
    from search.engine import pg_statements, postgres_backend

    undated = replace(ticket(7, "电梯积水", created=when(1, 1)), dates={"created_at": None})
    indexed.index([undated])
    with indexed.engine.begin() as conn:
        conn.execute(text("ANALYZE search_documents"))
    monkeypatch.setattr(postgres_backend, "MATCH_WINDOW", 1)
    monkeypatch.setattr(postgres_backend, "PERIOD_MARGIN", 0.05)
    monkeypatch.setattr(postgres_backend, "PERIOD_LIMIT", 100.0)
    monkeypatch.setattr(postgres_backend, "PERIOD_FROM", 0)
    statements = []
    monkeypatch.setattr(postgres_backend, "window_statement", lambda *a, **kw: (
        statements.append(a[1]) or pg_statements.window_statement(*a, **kw)))
    requests = [
        dict(query="电梯 OR 积水 OR light", filters={"status": ("open",)}),
        dict(query="电梯", filters={"status": ("closed", "open"), "department_id": ("2",)}),
        dict(query="积水 OR light", filters={"tag": ("t1",), "department_id": (1,)},
             facets=("status", "tag")),
        dict(query="故障", filters={"status": ("open",)}, sort="oldest"),
        dict(query="NOT 故障", filters={"tag": ("a",)}, sort="newest"),
        dict(query="电梯 OR 积水", filters={"status": ("nothing",)}),
    ]
    answers: dict = {}
    for fold in (False, True):
        monkeypatch.setattr(postgres_backend, "FOLD_FILTERS", fold)
        for path in ("gin", "probe", "dates"):
            monkeypatch.setattr(postgres_backend, "window_path", lambda *a, p=path: p)
            statements.clear()
            for i, kw in enumerate(requests):
                for access in (STAFF, ("dept:2", "dept:9")):
                    response = indexed.search(SearchRequest(
                        kind=KIND, access=access, highlight=("title",), **kw))
                    answers.setdefault((i, access), []).append((
                        [(h.id, h.score, h.highlights) for h in response.hits],
                        response.total, response.exact,
                        {k: dict(v) for k, v in response.facets.items()}))
            through_filters = ["filters" in where for where in statements]
            assert not any(through_filters) if fold else all(through_filters)
    for key, seen in answers.items():
        assert all(answer == seen[0] for answer in seen), key
    assert [h[0] for h in answers[(0, STAFF)][0][0]] == [7]
    assert answers[(5, STAFF)][0][1] == 0
