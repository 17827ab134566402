"""One suite, every search backend: the same documents, the same questions, the same answers.

Whoosh runs in a temporary folder per test; PostgreSQL runs when
``PORTAL_TEST_DATABASE_URL`` is a PostgreSQL URL (else skipped), on the
``search_documents`` table built in a schema of its own (no app needed: the backends
are the engine's, below the rooms). The documents are of a made-up kind, ``ticket``,
whose source declares its fields as the real ones do.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from markupsafe import Markup
from sqlalchemy import create_engine, text

from search.engine import registry
from search.engine.types import Document, QuerySyntaxError, SearchRequest

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL") or ""
KIND = "ticket"
STAFF = ("staff",)
TEXT_FIELDS = ("title", "body", "replies", "notes", "district")
PUBLIC_FIELDS = ("title", "body", "replies", "district")


class TicketSource:
    """The fields of the made-up kind, declared as a room's source declares them."""

    kind = KIND
    text_fields = TEXT_FIELDS
    public_fields = PUBLIC_FIELDS
    exact_fields = ("number", "phone")

    @staticmethod
    def exact_forms(word: str) -> list[str]:
        """A phone number is looked up by its keyed hash (never stored in clear)."""
        return [phone_hash(word)] if word.isdigit() and len(word) == 11 else []

    def affected(self, entity, ids):  # pragma: no cover - not used by backends
        return []

    def documents(self, ids):  # pragma: no cover
        return []

    def all_ids(self):  # pragma: no cover
        return []


def phone_hash(phone: str) -> str:
    return hashlib.sha256(f"key:{phone}".encode()).hexdigest()[:32]


def when(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def ticket(
    id: int, title: str, body: str = "", *, replies: str = "", notes: str = "",
    district: str = "", status: str = "open", department: int = 1, created: datetime,
    access: tuple[str, ...] = (),
) -> Document:
    number = f"2026-{id:06d}"
    return Document(
        kind=KIND,
        id=id,
        text={"title": title, "body": body, "replies": replies, "notes": notes,
              "district": district},
        exact={"number": [number, number.replace("-", "")],
               "phone": [phone_hash(f"138{id:08d}")]},
        filters={"status": status, "department_id": department, "tag": ["a", f"t{id % 2}"]},
        dates={"created_at": created, "closed_at": None},
        access=("staff", f"dept:{department}", *access),
    )


DOCS = [
    ticket(1, "解放路路面积水严重", "暴雨后解放路路面积水严重，车辆无法通行。",
           replies="已联系排水公司处理。", district="朝阳区", department=1,
           created=when(1, 5), access=("client:100",)),
    ticket(2, "小区电梯频繁故障", "幸福小区3号楼电梯频繁故障，老人出行困难。",
           status="closed", department=2, district="海淀区", created=when(2, 10),
           access=("client:101",)),
    ticket(3, "電梯故障已三天", "電梯故障已三天，無人維修。", department=2,
           created=when(3, 15), access=("client:100",)),
    ticket(4, "Street light broken", "The street lights are flickering near the <school>",
           department=1, created=when(4, 1, 12)),
    ticket(5, "夜间施工噪音扰民", "工地夜间施工噪音扰民", notes="内部备注：与积水有关",
           status="in_progress", department=3, created=when(5, 20),
           access=("client:100",)),
]
# Found only by the viewers of department 9: nobody else's total or facet counts it.
SECRET = ticket(6, "管道漏水积水", "地下室积水", department=9, created=when(6, 1))
SECRET = replace(SECRET, access=("dept:9",))


# --- the backends --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_engine() -> Iterator:
    if not PG_URL.startswith("postgresql"):
        pytest.skip("PORTAL_TEST_DATABASE_URL is not a PostgreSQL URL")
    from search.engine.pg_models import SearchDocument

    schema = f"search_backends_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    SearchDocument.__table__.create(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["whoosh", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator:
    registry.register_source(TicketSource())
    try:
        if request.param == "whoosh":
            from search.engine.whoosh_backend import WhooshBackend

            engine = WhooshBackend(tmp_path / "index")
            yield engine
            engine.close()
        else:
            from search.engine.postgres_backend import PostgresBackend

            engine = PostgresBackend(request.getfixturevalue("pg_engine"))
            engine.clear()
            yield engine
            engine.clear()
    finally:
        registry.unregister(KIND)


@pytest.fixture
def indexed(backend):
    backend.index([*DOCS, SECRET])
    return backend


def ids(backend, query: str = "", access: tuple[str, ...] = STAFF, **kw) -> list[int]:
    response = backend.search(SearchRequest(kind=KIND, query=query, access=access, **kw))
    return [hit.id for hit in response.hits]


def found(backend, query: str = "", access: tuple[str, ...] = STAFF, **kw) -> set[int]:
    response = backend.search(
        SearchRequest(kind=KIND, query=query, access=access, per_page=100, **kw)
    )
    assert response.total == len(response.hits)
    return {hit.id for hit in response.hits}


# --- Chinese, English, numbers -------------------------------------------------------------


def test_words_inside_sentences_and_traditional_characters(indexed):
    assert found(indexed, "电梯") == {2, 3}  # 電梯 (traditional) is found too
    assert found(indexed, "電梯") == {2, 3}
    assert found(indexed, "噪音") == {5}
    assert found(indexed, "老人") == {2}


def test_verbatim_bigram_fallback(indexed):
    # jieba cuts 路面积水 as 路 面积 水: 积水 is no word of the text, yet it is found.
    assert found(indexed, "积水", fields=PUBLIC_FIELDS) == {1}
    assert found(indexed, "面积水", fields=PUBLIC_FIELDS) == {1}
    # Words of a query found apart in one field match too; in the wrong order, verbatim
    # nowhere and not as words either: nothing.
    assert found(indexed, "电梯故障") == {2, 3}
    assert found(indexed, "水积") == set()


def test_english_is_stemmed_and_widths_fold(indexed):
    assert found(indexed, "lights") == {4}
    assert found(indexed, "flicker") == {4}
    assert found(indexed, "LIGHT") == {4}
    assert found(indexed, "ｌｉｇｈｔ") == {4}  # full-width

def test_stop_words_alone_ask_for_nothing(indexed):
    assert found(indexed, "the light") == {4}
    assert found(indexed, "light AND the") == {4}
    assert found(indexed, "the") == {1, 2, 3, 4, 5}  # nothing asked: everything the viewer may find


def test_phrases(indexed):
    assert found(indexed, '"电梯 故障"') == {3}  # next to each other, in order
    assert found(indexed, '"电梯故障"') == {3}
    assert found(indexed, '"故障 电梯"') == set()


def test_english_phrases(indexed):
    assert found(indexed, '"street light"') == {4}
    assert found(indexed, '"light street"') == set()


def test_and_or_not(indexed):
    assert found(indexed, "电梯 老人") == {2}
    assert found(indexed, "电梯 AND 老人") == {2}
    assert found(indexed, "噪音 OR 电梯") == {2, 3, 5}
    assert found(indexed, "噪音 | light") == {4, 5}
    assert found(indexed, "电梯 NOT 小区") == {3}
    assert found(indexed, "电梯 -小区") == {3}
    assert found(indexed, "(噪音 OR 小区) 电梯") == {2}
    assert found(indexed, "NOT 电梯") == {1, 4, 5}


def test_field_prefixes_and_fields_the_viewer_may_search(indexed):
    assert found(indexed, "积水") == {1, 5}  # staff: the note of 5 counts
    assert found(indexed, "title:积水") == {1}
    assert found(indexed, "notes:积水") == {5}
    assert found(indexed, "replies:排水") == {1}
    assert found(indexed, "body:排水") == set()
    assert found(indexed, 'title:"电梯故障"') == {3}
    # A viewer who may not search notes: never found through them, no prefix for them.
    assert found(indexed, "积水", fields=PUBLIC_FIELDS) == {1}
    with pytest.raises(QuerySyntaxError):
        found(indexed, "notes:积水", fields=PUBLIC_FIELDS)
    with pytest.raises(QuerySyntaxError):
        found(indexed, "nosuchfield:积水")


def test_tracking_numbers_are_exact_with_or_without_the_dash(indexed):
    assert found(indexed, "2026-000002") == {2}
    assert found(indexed, "2026000002") == {2}
    assert found(indexed, "number:2026-000003") == {3}
    assert found(indexed, "number:2026000003") == {3}
    assert found(indexed, "000002") == set()
    assert found(indexed, "13800000002") == {2}  # through the source's keyed hash
    assert found(indexed, "phone:13800000003") == {3}
    assert found(indexed, phone_hash("13800000003")[:8]) == set()
    assert found(indexed, "2026-000002", access=("client:100",)) == set()


def test_malformed_queries_raise_a_syntax_error(indexed):
    for query in ['"电梯', "电梯 OR", "(电梯", "电梯)", "NOT"]:
        with pytest.raises(QuerySyntaxError):
            found(indexed, query)


# --- filters, dates, facets, access ----------------------------------------------------------


def test_filters(indexed):
    assert found(indexed, filters={"status": ("open",)}) == {1, 3, 4}
    assert found(indexed, filters={"status": ("open", "closed")}) == {1, 2, 3, 4}
    assert found(indexed, filters={"department_id": (2,)}) == {2, 3}
    assert found(indexed, filters={"department_id": ("2",)}) == {2, 3}  # as a URL brings it
    assert found(indexed, filters={"tag": ("t1",)}) == {1, 3, 5}
    assert found(indexed, "电梯", filters={"status": ("open",)}) == {3}
    assert found(indexed, filters={"status": ()}) == {1, 2, 3, 4, 5}  # no choice: no filter


def test_date_ranges(indexed):
    span = {"created_at": (when(2, 1), when(3, 31))}
    assert found(indexed, date_ranges=span) == {2, 3}
    assert found(indexed, date_ranges={"created_at": (when(4, 1), None)}) == {4, 5}
    assert found(indexed, date_ranges={"created_at": (None, when(1, 31))}) == {1}
    assert found(indexed, date_ranges={"created_at": (when(1, 5), when(1, 5))}) == {1}
    assert found(indexed, date_ranges={"closed_at": (when(1, 1), None)}) == set()


def test_facets_count_only_what_the_viewer_may_find(indexed):
    response = indexed.search(SearchRequest(
        kind=KIND, access=STAFF, facets=("status", "department_id", "tag")
    ))
    assert response.total == 5  # the secret one (department 9, open) is not counted
    assert dict(response.facets["status"]) == {"open": 3, "closed": 1, "in_progress": 1}
    assert dict(response.facets["department_id"]) == {1: 2, 2: 2, 3: 1}
    assert dict(response.facets["tag"]) == {"a": 5, "t0": 2, "t1": 3}

    response = indexed.search(SearchRequest(
        kind=KIND, query="积水", access=("dept:9", "dept:3"), facets=("department_id",)
    ))
    assert response.total == 2
    assert dict(response.facets["department_id"]) == {9: 1, 3: 1}

    # Facets count the filtered, matched set.
    response = indexed.search(SearchRequest(
        kind=KIND, query="电梯", access=STAFF, facets=("status",),
        filters={"department_id": (2,)},
    ))
    assert dict(response.facets["status"]) == {"open": 1, "closed": 1}


def test_any_of_three_or_more_values_keeps_every_hit(indexed):
    """A filter or the access keys with three or more values, with a query and without:
    the hits are all the total counts (Whoosh once lost hits scoring 0 on a small index)."""
    statuses = ("open", "closed", "in_progress", "replied")
    assert found(indexed, filters={"status": statuses}) == {1, 2, 3, 4, 5}
    assert found(indexed, "积水 OR 电梯", filters={"status": statuses}) == \
        found(indexed, "积水 OR 电梯")
    keys = ("client:100", "dept:2", "nobody", "dept:77")
    assert found(indexed, access=keys) == {1, 2, 3, 5}
    assert found(indexed, "积水 OR 电梯", access=keys) == \
        found(indexed, "积水 OR 电梯", access=("client:100", "dept:2"))


def test_access_keys(indexed):
    assert found(indexed, access=("client:100",)) == {1, 3, 5}
    assert found(indexed, access=("dept:2",)) == {2, 3}
    assert found(indexed, "积水", access=("dept:9",)) == {6}
    assert found(indexed, "积水", access=("dept:2",)) == set()
    assert found(indexed, access=("client:100", "dept:2")) == {1, 2, 3, 5}
    response = indexed.search(SearchRequest(kind=KIND, query="积水", access=(), facets=("tag",)))
    assert (response.total, response.hits, dict(response.facets["tag"])) == (0, [], {})
    assert found(indexed, access=("nobody",)) == set()


def test_kinds_stay_apart(indexed):
    indexed.index([Document(kind="answer", id=1, text={"title": "电梯故障怎么办"},
                            access=("staff",))])
    assert found(indexed, "电梯") == {2, 3}
    answers = indexed.search(SearchRequest(kind="answer", query="电梯", access=STAFF))
    assert [h.id for h in answers.hits] == [1]


# --- order, pages, snippets ----------------------------------------------------------------


def test_sorting(indexed):
    assert ids(indexed, sort="newest") == [5, 4, 3, 2, 1]
    assert ids(indexed, sort="oldest") == [1, 2, 3, 4, 5]
    assert ids(indexed) == [5, 4, 3, 2, 1]  # no words: relevance falls back to the newest
    # A title match ranks above a note.
    assert ids(indexed, "积水") == [1, 5]
    assert ids(indexed, "积水", sort="newest") == [5, 1]


def test_pagination(indexed):
    pages = [
        indexed.search(SearchRequest(kind=KIND, access=STAFF, sort="newest", page=page,
                                     per_page=2))
        for page in (1, 2, 3, 4)
    ]
    assert [r.total for r in pages] == [5, 5, 5, 5]
    assert [[h.id for h in r.hits] for r in pages] == [[5, 4], [3, 2], [1], []]


def test_highlights_are_escaped_and_marked(indexed):
    response = indexed.search(SearchRequest(
        kind=KIND, query="积水 OR school", access=STAFF, highlight=("title", "body", "notes"),
        fields=PUBLIC_FIELDS,
    ))
    marks = {hit.id: dict(hit.highlights) for hit in response.hits}
    assert set(marks) == {1, 4}
    assert "<mark>积水</mark>" in marks[1]["title"]
    assert "notes" not in marks.get(5, {})
    assert "&lt;<mark>school</mark>&gt;" in marks[4]["body"]
    assert "<school>" not in marks[4]["body"]
    assert isinstance(marks[4]["body"], Markup | str)

    response = indexed.search(SearchRequest(
        kind=KIND, query="電梯", access=STAFF, highlight=("title",), sort="oldest"
    ))
    titles = [hit.highlights.get("title") for hit in response.hits]
    assert titles == ["小区<mark>电梯</mark>频繁故障", "<mark>電梯</mark>故障已三天"]


# --- writing, verify's view, clearing --------------------------------------------------------


def test_index_replaces_and_delete_removes(indexed):
    changed = ticket(2, "小区路灯不亮", "路灯坏了", status="closed", department=2,
                     created=when(2, 10))
    indexed.index([changed])
    assert found(indexed, "电梯") == {3}
    assert found(indexed, "路灯") == {2}
    indexed.delete(KIND, [3, 99])
    assert found(indexed, "电梯") == set()
    assert found(indexed) == {1, 2, 4, 5}
    indexed.delete(KIND, [])


def test_fingerprints(indexed):
    expected = {d.id: d.fingerprint() for d in [*DOCS, SECRET]}
    assert indexed.fingerprints(KIND) == expected
    changed = ticket(1, "路面塌陷", created=when(1, 5))
    indexed.index([changed])
    assert indexed.fingerprints(KIND)[1] == changed.fingerprint() != expected[1]
    assert indexed.fingerprints("answer") == {}


def test_clear(indexed):
    indexed.index([Document(kind="answer", id=7, text={"title": "积水"}, access=STAFF)])
    indexed.clear(KIND)
    assert indexed.fingerprints(KIND) == {}
    assert found(indexed) == set()
    assert set(indexed.fingerprints("answer")) == {7}
    indexed.clear()
    assert indexed.fingerprints("answer") == {}


def test_the_same_document_twice_in_one_batch_keeps_the_last(backend):
    first = ticket(8, "井盖缺失", created=when(7, 1))
    last = ticket(8, "井盖破损", created=when(7, 1))
    backend.index([first, last])
    assert found(backend, "破损") == {8}
    assert found(backend, "缺失") == set()


def test_writers_at_once_lose_nothing(backend):
    """Four writers (threads here; processes and servers in production) index overlapping
    batches at once: every document is there once, in its last form."""
    batches = [
        [ticket(100 + n, f"第{n}号井盖缺失", created=when(8, 1 + n % 20)) for n in range(k, 40, 4)]
        + [ticket(200, "共同的文件", created=when(9, 1))]
        for k in range(4)
    ]
    errors: list[BaseException] = []

    def write(batch: list[Document]) -> None:
        try:
            backend.index(batch)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(backend.fingerprints(KIND)) == {*range(100, 140), 200}
    assert found(backend, "井盖") == set(range(100, 140))


# --- bulk rebuilds (search.engine.bulk) ---------------------------------------------------


def _snapshot(backend) -> object:
    """Everything the index holds, comparable between two builds."""
    if backend.name == "whoosh":
        searcher = backend.searcher()
        reader = searcher.reader()
        terms = {}
        for field, term in reader.all_terms():
            if field in ("key", "kind", "access") or field.startswith(("t_", "x_", "f_")):
                postings = reader.postings(field, term)
                terms[(field, term)] = sorted(
                    (searcher.stored_fields(d)["key"], v)
                    for d, v in postings.items_as("positions" if field.startswith("t_")
                                                  else "weight")
                )
        stored = sorted(sorted(f.items()) for f in searcher.all_stored_fields())
        return terms, stored
    with backend.engine.connect() as conn:
        return conn.execute(text(
            "SELECT kind, doc_id, fingerprint, tsv::text, texts, filters, dates, access "
            "FROM search_documents ORDER BY kind, doc_id"
        )).all()


def test_a_bulk_rebuild_builds_the_same_index(backend):
    """Analysis in worker processes and the bulk writer give the index ``index`` gives."""
    import multiprocessing

    from search.engine import bulk
    from search.engine.bulk import _analyse_all, _analyser

    documents = [*DOCS, SECRET]
    backend.index(documents)
    expected = _snapshot(backend)
    backend.clear()
    analyse = _analyser(backend)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        chunks = [pool.apply(_analyse_all, (analyse, documents[:3])),
                  pool.apply(_analyse_all, (analyse, documents[3:]))]
    if backend.name == "whoosh":
        with backend.writer(limitmb=64) as writer:
            writer.delete_by_term("kind", KIND)
            for rows in chunks:
                bulk.add_analysed(writer, rows)
    else:
        backend.replace_kind(KIND, iter(chunks))  # an empty table: GIN indexes made after
        assert _snapshot(backend) == expected
        backend.replace_kind(KIND, iter(chunks))  # a table in use: rows replaced in place
    assert _snapshot(backend) == expected
    assert found(backend, "电梯") == {2, 3}
    assert found(backend, '"电梯 故障"') == {3}


def test_postgresql_reads_a_window_of_the_newest_matches(indexed, monkeypatch):
    """Beyond the window the total is "more than" it, and the window is the newest (or, for
    oldest first, the oldest) matches: ranked, counted and faceted within it."""
    if indexed.name != "postgresql":
        assert indexed.search(SearchRequest(kind=KIND, access=STAFF)).exact
        return
    from search.engine import postgres_backend

    monkeypatch.setattr(postgres_backend, "MATCH_WINDOW", 3)
    response = indexed.search(SearchRequest(kind=KIND, access=STAFF, facets=("status",)))
    assert (response.total, response.exact) == (3, False)
    assert [hit.id for hit in response.hits] == [5, 4, 3]
    assert sum(response.facets["status"].values()) == 3
    oldest = indexed.search(SearchRequest(kind=KIND, access=STAFF, sort="oldest"))
    assert [hit.id for hit in oldest.hits] == [1, 2, 3]
    # Within the window every match counts exactly.
    small = indexed.search(SearchRequest(kind=KIND, query="积水", access=STAFF))
    assert (small.total, small.exact) == (2, True)


def test_postgresql_finds_the_same_window_either_way(indexed, monkeypatch):
    """Along the date index (common words) or through GIN and a sort (rare ones): the same
    page, total and facets."""
    if indexed.name != "postgresql":
        return
    from search.engine import postgres_backend

    answers = []
    for along_dates in (True, False):
        path = "dates" if along_dates else "gin"
        monkeypatch.setattr(postgres_backend, "window_path", lambda *a, p=path: p)
        for query, sort in (("积水", "relevance"), ("", "newest"), ("故障", "oldest")):
            response = indexed.search(SearchRequest(kind=KIND, query=query, access=STAFF,
                                                    sort=sort, facets=("status",)))
            answers.append((along_dates, query, sort, [h.id for h in response.hits],
                            response.total, dict(response.facets["status"])))
    half = len(answers) // 2
    assert [a[1:] for a in answers[:half]] == [a[1:] for a in answers[half:]]
    monkeypatch.undo()
    from search.engine.pg_statements import is_common

    with indexed.engine.connect() as conn:  # the planner's guess decides
        conn.execute(text("ANALYZE search_documents"))
        assert is_common(conn, "kind = 'ticket'", {}, 3, 0.03)  # all 6: more than 3
        assert not is_common(conn, "kind = 'nothing'", {}, 3, 0.03)


def test_postgresql_date_probe_finds_the_same_window(indexed, monkeypatch):
    """A date probe (browsing: a range of the newest, or oldest, dates, widened until the
    window fills; with words, the newest days' lexemes, tests/test_search_periods.py) gives
    the page, total and facets the whole table gives, for every order; when the window
    never fills, the whole table answers."""
    if indexed.name != "postgresql":
        return
    from search.engine import pg_statements, postgres_backend

    monkeypatch.setattr(postgres_backend, "MATCH_WINDOW", 2)
    monkeypatch.setattr(postgres_backend, "PROBE_MARGIN", 0.05)  # start narrow, widen
    monkeypatch.setattr(postgres_backend, "PROBE_LIMIT", 1.0)
    probes = []

    def spy(*args, **kw):
        probes.append(kw.get("probe", False))
        return pg_statements.window_statement(*args, **kw)

    monkeypatch.setattr(postgres_backend, "window_statement", spy)
    undated = replace(ticket(7, "电梯积水", created=when(1, 1)), dates={"created_at": None})
    indexed.index([undated])  # no date: first when newest first, last when oldest first
    questions = [("", "newest"), ("", "oldest"), ("", "relevance"), ("故障", "oldest"),
                 ("电梯 OR 积水 OR light", "relevance"), ("电梯 OR 积水", "newest"),
                 ("积水", "newest")]
    answers = {}
    for path in ("gin", "probe"):
        monkeypatch.setattr(postgres_backend, "window_path", lambda *a, p=path: p)
        probes.clear()
        for query, sort in questions:
            for access in (STAFF, ("dept:2", "dept:9")):
                response = indexed.search(SearchRequest(
                    kind=KIND, query=query, access=access, sort=sort, facets=("status",),
                    filters={"tag": ("a",)}))
                answers.setdefault((query, sort, access), []).append((
                    [h.id for h in response.hits], response.total, response.exact,
                    dict(response.facets["status"])))
    for key, (plain, probed) in answers.items():
        assert plain == probed, key
    plain = probes.count(False)  # the probe half: the statements without a range
    assert 0 < plain < len(answers)  # most windows came from a probe, some never filled
    assert answers[("", "newest", STAFF)][0][:3] == ([5, 7], 2, False)  # 7 undated: listed last
    assert answers[("", "oldest", STAFF)][0][:3] == ([1, 2], 2, False)


def test_a_probe_edge_keeps_a_share_of_the_rows():
    """Between quantiles (parts of equal rows) the edge is placed in time."""
    from search.engine.pg_statements import date_key, probe_edge

    span = [date_key(when(1, 1)), date_key(when(1, 11))]
    assert probe_edge(span, 0.1, oldest=False) == date_key(when(1, 10))
    assert probe_edge(span, 0.1, oldest=True) == date_key(when(1, 2))
    quantiles = [date_key(when(1, 1)), date_key(when(3, 1)), date_key(when(3, 11))]
    assert probe_edge(quantiles, 0.25, oldest=False) == date_key(when(3, 6))
    assert probe_edge(quantiles, 0.75, oldest=True) == date_key(when(3, 6))
    assert probe_edge(span, 2.0, oldest=False) == span[0]  # never past the first
    assert probe_edge([], 0.1, oldest=False) is None
    assert probe_edge(span[:1] * 2, 0.1, oldest=False) is None  # one date: no span


def test_postgresql_filters_through_their_index_or_row_by_row_agree(indexed, monkeypatch):
    """A filter most rows pass is checked row by row (``filters -> name @> [v]``), a
    selective one through the GIN index (``filters @> {name: [v]}``): the same answers."""
    if indexed.name != "postgresql":
        return
    from sqlalchemy import text

    from search.engine import pg_statements, postgres_backend
    from search.engine.pg_statements import window_statement

    with indexed.engine.begin() as conn:  # the planner's row counts, as after autovacuum
        conn.execute(text("ANALYZE search_documents"))
    requests = [dict(filters={"status": ("open",)}),
                dict(query="电梯", filters={"status": ("closed", "open"), "department_id": (2,)}),
                dict(query="积水 OR light", filters={"tag": ("t1",), "department_id": ("1",)},
                     facets=("status", "tag"))]
    answers, statements = [], []
    monkeypatch.setattr(postgres_backend, "ROW_COST", 0)
    # With words, filters are checked in the tsquery by default (tests/test_search_filters.py)
    monkeypatch.setattr(postgres_backend, "FOLD_FILTERS", False)
    monkeypatch.setattr(postgres_backend, "window_statement",
                        lambda *a, **kw: statements.append(a[1]) or window_statement(*a, **kw))
    for share in (0.0, 1e9):  # every filter row by row; every one through the index
        monkeypatch.setattr(postgres_backend, "SELECTIVE_SHARE", share)
        statements.clear()
        pg_statements._FILTER_ROWS.clear()
        for kw in requests:
            response = indexed.search(SearchRequest(kind=KIND, access=STAFF, **kw))
            answers.append(([h.id for h in response.hits], response.total,
                            {k: dict(v) for k, v in response.facets.items()}))
        indexed_form = all("filters @>" in where for where in statements)
        assert indexed_form == bool(share)
    assert answers[:3] == answers[3:]
    assert answers[0][0] == [4, 3, 1] and set(answers[1][0]) == {2, 3}
    where, params = pg_statements.where_clause(
        SearchRequest(kind=KIND, access=STAFF, filters={"status": ("open",), "tag": ("a",)}),
        pg_statements.EVERYTHING, frozenset({"status"}))
    assert "filters -> :filter_0 @> " in where and "filters @> CAST(:filter_1_0" in where
