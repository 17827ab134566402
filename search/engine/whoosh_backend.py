"""The embedded backend: a Whoosh index in a folder (``SEARCH_INDEX_DIR``).

One index holds every kind. Fields are made from a ``Document``'s: ``t_<name>`` text
(analysed by ``search.engine.text``, stored for snippets, positions for phrases),
``x_<name>`` exact keywords, ``f_<name>`` filter keywords (facets count them),
``d_<name>`` dates (sortable), ``access`` keywords; ``key`` (kind:id) is unique, ``fp``
the stored fingerprint ``verify`` compares.

Processes: one searcher per process, ``refresh()``ed before each search (it reopens only
what changed); one writer at a time across processes (Whoosh's lock file): a writer
waits up to ``lock_timeout`` seconds, then raises ``IndexBusy`` (the indexer leaves the
change feed cursor where it was, so the next catch-up takes the change: nothing is lost).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.sorting import FieldFacet
from whoosh.writing import SegmentWriter

from search.engine import registry
from search.engine.query import fields_used, parse
from search.engine.text import highlight, index_tokens
from search.engine.types import (
    Document,
    FilterValue,
    Hit,
    QuerySyntaxError,
    SearchRequest,
    SearchResponse,
)
from search.engine.whoosh_query import Compiler, DocSet, docs_of, keyword, needles_for

INDEX_NAME = "portal"
MAX_WINDOW = 10_000  # deepest result a page may reach (page * per_page)


class IndexBusy(Exception):
    """Another process held the index writer longer than the timeout."""


class SearchTokenizer(Tokenizer):
    """Whoosh's side of ``search.engine.text.index_tokens`` (positions included)."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            yield token
            return
        tokens = getattr(value, "tokens", None)  # analysed already (a bulk rebuild)
        for term, position in tokens if tokens is not None else index_tokens(value):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + position
            yield token


def make_schema() -> Schema:
    analyzer = SearchTokenizer()
    schema = Schema(
        key=ID(unique=True, stored=True),
        kind=ID(stored=True),
        fp=STORED(),
        access=KEYWORD(),
        t_title=TEXT(analyzer=analyzer, stored=True, phrase=True, field_boost=2.0),
    )
    schema.add("t_*", TEXT(analyzer=analyzer, stored=True, phrase=True), glob=True)
    schema.add("x_*", KEYWORD(), glob=True)
    schema.add("f_*", KEYWORD(), glob=True)
    schema.add("d_*", DATETIME(sortable=True), glob=True)
    return schema


def whoosh_fields(document: Document) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "key": document.key,
        "kind": document.kind,
        "fp": document.fingerprint(),
        "access": " ".join(keyword(k) for k in document.access),
    }
    for name, value in document.text.items():
        if value:
            fields[f"t_{name}"] = value
    for name, values in document.exact.items():
        if values:
            fields[f"x_{name}"] = " ".join(keyword(v) for v in values)
    for name, value in document.filters.items():
        values = value if isinstance(value, list) else [value]
        values = [v for v in values if v is not None]
        if values:
            fields[f"f_{name}"] = " ".join(keyword(v) for v in values)
    for name, when in document.dates.items():
        if when is not None:
            fields[f"d_{name}"] = when.replace(tzinfo=None)
    return fields


class WhooshBackend:
    """``SearchBackend`` over a Whoosh index in ``directory``."""

    name = "whoosh"

    def __init__(self, directory: str | Path, lock_timeout: float = 5.0) -> None:
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout
        self._index: Any = None
        self._searcher: Any = None
        self._lock = threading.RLock()
        self._facet_cache: dict[tuple[str, str], frozenset[int]] = {}
        self._docs_cache: dict[Any, frozenset[int]] = {}
        self._cache_owner: Any = None

    # --- the index and its searcher ----------------------------------------------------

    def open(self) -> Any:
        with self._lock:
            if self._index is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                if whoosh_index.exists_in(str(self.directory), indexname=INDEX_NAME):
                    self._index = whoosh_index.open_dir(str(self.directory),
                                                        indexname=INDEX_NAME)
                else:
                    try:
                        with self._writing_lock():  # two processes may start at once
                            if not whoosh_index.exists_in(str(self.directory), INDEX_NAME):
                                whoosh_index.create_in(str(self.directory), make_schema(),
                                                       indexname=INDEX_NAME)
                    finally:
                        self._index = whoosh_index.open_dir(str(self.directory),
                                                            indexname=INDEX_NAME)
            return self._index

    @contextmanager
    def _writing_lock(self) -> Iterator[None]:
        lock = FileStorage(str(self.directory)).lock(f"{INDEX_NAME}_CREATELOCK")
        if not lock.acquire(blocking=True):
            raise IndexBusy()
        try:
            yield
        finally:
            lock.release()

    def exists(self) -> bool:
        """Whether the index has been made in its folder."""
        return whoosh_index.exists_in(str(self.directory), indexname=INDEX_NAME)

    def searcher(self) -> Any:
        """This process's searcher, refreshed (segments that changed are reopened)."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self.open().searcher()
            else:
                self._searcher = self._searcher.refresh()
            if self._cache_owner is not self._searcher:
                self._facet_cache = {}
                self._docs_cache = {}
                self._cache_owner = self._searcher
            return self._searcher

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._index = None

    @contextmanager
    def writer(self, limitmb: int = 128, compound: bool = True) -> Iterator[Any]:
        """The index's one writer; waits ``lock_timeout`` s for another process's.
        ``limitmb``: postings held in memory before a sorted run goes to disk;
        ``compound``: the new segment in one file (Whoosh copies a compound segment's
        term file into memory each time a reader opens it: right for small segments,
        ~100 ms a refresh for a rebuild's big one)."""
        try:
            writer = SegmentWriter(self.open(), timeout=self.lock_timeout, delay=0.02,
                                   limitmb=limitmb, compound=compound)
        except LockError as error:
            raise IndexBusy(str(error)) from error
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    # --- SearchBackend -----------------------------------------------------------------

    def index(self, documents: Iterable[Document], writer: Any = None,
              replace: bool = True) -> None:
        documents = list({d.key: d for d in documents}.values())  # the last of a key wins
        if not documents:
            return
        if writer is None:
            with self.writer() as own:
                self.index(documents, own, replace)
            return
        for document in documents:
            if replace:
                writer.update_document(**whoosh_fields(document))
            else:
                writer.add_document(**whoosh_fields(document))

    def delete(self, kind: str, ids: Iterable[int], writer: Any = None) -> None:
        ids = list(ids)
        if not ids:
            return
        if writer is None:
            with self.writer() as own:
                self.delete(kind, ids, own)
            return
        for doc_id in ids:
            writer.delete_by_term("key", f"{kind}:{doc_id}")

    def clear(self, kind: str | None = None) -> None:
        with self.writer() as writer:
            if kind is None:
                writer.delete_by_query(Q.Every())
            else:
                writer.delete_by_term("kind", kind)

    def fingerprints(self, kind: str) -> dict[int, str]:
        searcher = self.searcher()
        found: dict[int, str] = {}
        for fields in searcher.documents(kind=kind):
            found[int(fields["key"].split(":", 1)[1])] = fields.get("fp", "")
        return found

    def search(self, request: SearchRequest) -> SearchResponse:
        with self._lock:  # the caches that belong to this searcher (another thread may
            searcher = self.searcher()  # refresh it meanwhile)
            cache, facet_cache = self._docs_cache, self._facet_cache
        names = set(searcher.reader().indexed_field_names())
        text_fields = tuple(request.fields if request.fields is not None
                            else registry.text_fields(request.kind)
                            or sorted(n[2:] for n in names if n.startswith("t_")))
        exact_fields = tuple(registry.exact_fields(request.kind)
                             or sorted(n[2:] for n in names if n.startswith("x_")))
        tree = parse(request.query, frozenset(text_fields) | frozenset(exact_fields))
        compiler = Compiler(request.kind, text_fields, exact_fields)
        restrict = self._restriction(request)
        if restrict is None:
            return SearchResponse(total=0, hits=[], facets={f: {} for f in request.facets})
        matcher = compiler.compile(tree) if tree is not None else None
        scored = matcher if matcher is not None else Q.Every()
        # The total and the facets from sets of document numbers (one per term, cached
        # per searcher): walking Whoosh's matchers a second time for them cost as much
        # as the scored search itself.
        matched = docs_of(searcher, cache, scored, docs_of(searcher, cache, restrict))
        # The scored search: the words joined to the matched set (``DocSet``), so Whoosh
        # skips through the few documents the restrictions leave instead of walking every
        # document a common word is in (or the restrictions' own matchers again: a date
        # range over 10,000 cases cost ~0.5 s a search). When most documents are left,
        # the words alone with the set as a filter. The order is the words' own score.
        everyone = searcher.doc_count()
        if len(matched) * 2 < everyone:
            full, kept = Q.And([scored, DocSet(matched)]), None
        else:
            full, kept = scored, (set(matched) if len(matched) != everyone else None)
        total = len(matched)
        facets = {name: self._facet(searcher, facet_cache, name, matched)
                  for name in request.facets}
        per_page = max(1, request.per_page)
        start = (max(1, request.page) - 1) * per_page
        hits: list[Hit] = []
        if not request.ranked and not request.highlight and start == 0 and total <= per_page:
            # Every match is on the page and its order does not matter: ranking them would
            # walk each word's postings to every one of them (~5 ms for a title's words).
            for docnum in sorted(matched):
                kind, _, doc_id = searcher.stored_fields(docnum)["key"].partition(":")
                hits.append(Hit(kind=kind, id=int(doc_id), score=0.0))
        elif start < total and start < MAX_WINDOW:
            limit = min(start + per_page, MAX_WINDOW)
            sortedby, reverse = None, False
            if request.sort in ("newest", "oldest") or matcher is None:
                sortedby = FieldFacet(f"d_{request.sort_date}")
                reverse = request.sort != "oldest"
                if f"d_{request.sort_date}" not in names:
                    sortedby = None
            results = searcher.search(full, filter=kept, limit=limit,
                                      sortedby=sortedby, reverse=reverse)
            shown = [f for f in request.highlight if f in text_fields]  # never a hidden field
            needles = {name: needles_for(tree, name) for name in shown}
            for result in results[start:limit]:
                kind, _, doc_id = result["key"].partition(":")
                marks: dict[str, str] = {}
                for name in shown:
                    stored = result.get(f"t_{name}")
                    snippet = highlight(stored, needles[name]) if stored else None
                    if snippet:
                        marks[name] = snippet
                score = float(result.score or 0.0) if sortedby is None else 0.0
                hits.append(Hit(kind=kind, id=int(doc_id), score=score,
                                highlights=marks))
        return SearchResponse(total=total, hits=hits, facets=facets)

    # --- helpers -------------------------------------------------------------------------

    def _restriction(self, request: SearchRequest) -> Any:
        """The kind, the viewer's access keys, the filters and date ranges (None: nothing
        can match)."""
        if not request.access:
            return None
        # Scores next to nothing: the restriction narrows, it does not rank. Not exactly 0:
        # Whoosh's top-N collector divides by a matcher's boost (skip_to_quality) on larger
        # indexes, and a 0 there is a ZeroDivisionError.
        parts: list[Any] = [
            Q.Term("kind", request.kind, boost=RESTRICTION_SCORE),
            _any_of("access", request.access),
        ]
        for name, values in request.filters.items():
            if not values:
                continue
            parts.append(_any_of(f"f_{name}", values))
        for name, (start, end) in request.date_ranges.items():
            if start is None and end is None:
                continue
            parts.append(Q.DateRange(
                f"d_{name}",
                start.replace(tzinfo=None) if isinstance(start, datetime) else None,
                end.replace(tzinfo=None) if isinstance(end, datetime) else None,
            ))
        return Q.And(parts)

    def _facet(self, searcher: Any, cache: dict[tuple[str, str], frozenset[int]], name: str,
               matched: frozenset[int]) -> dict[FilterValue, int]:
        """Counts per value of filter ``name`` among ``matched`` (digits come back as ints,
        as the sources gave them)."""
        field = f"f_{name}"
        counts: dict[FilterValue, int] = {}
        if not matched or field not in searcher.reader().indexed_field_names():
            return counts
        for value in searcher.reader().field_terms(field):
            key = (field, value)
            docs = cache.get(key)
            if docs is None:
                docs = frozenset(searcher.docs_for_query(Q.Term(field, value)))
                cache[key] = docs
            count = len(docs & matched) if len(docs) > len(matched) else len(matched & docs)
            if count:
                counts[int(value) if value.isdigit() and len(value) < 18 else value] = count
        return counts


# What a restriction (kind, access key, filter) adds to a hit's score: next to nothing.
RESTRICTION_SCORE = 1e-9


def _any_of(field: str, values: Iterable[Any]) -> Any:
    """Any of ``values`` in keyword ``field``, scoring next to nothing. Not an ``Or`` of
    terms boosted 0: on a small index (up to 5,000 documents) Whoosh answers an ``Or`` of
    three or more terms with an ``ArrayUnionMatcher``, which keeps only documents scoring
    above 0, so the hits would lose what the total (``docs_for_query``) counts."""
    terms = [Q.Term(field, keyword(v)) for v in values]
    if len(terms) == 1:
        return Q.Term(field, terms[0].text, boost=RESTRICTION_SCORE)
    return Q.ConstantScoreQuery(Q.Or(terms), score=RESTRICTION_SCORE)


__all__ = ["IndexBusy", "QuerySyntaxError", "WhooshBackend", "fields_used", "make_schema"]
