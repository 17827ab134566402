"""The query tree compiled for Whoosh (``search.engine.whoosh_backend``).

A term looks in every searchable text field of the kind (or its prefix's): each run of
the term matches where all its jieba words stand in a field, or all its character
bigrams do (the verbatim fallback); a word also matches an exact field whole (tracking
numbers in both forms, a source's keyed hashes). A phrase asks for consecutive positions.
"""

from __future__ import annotations

import threading
from typing import Any

from whoosh import matching
from whoosh import query as Q

from search.engine import registry
from search.engine.query import And, Node, Not, Or, Phrase, Term, positive_terms
from search.engine.text import phrase_sequences, query_terms, query_units


def keyword(value: Any) -> str:
    """A keyword as the index holds it (no spaces: keywords are space-separated)."""
    return str(value).replace(" ", "_")


def needles_for(tree: Node | None, field: str) -> list[str]:
    """The analysed terms of the query's positive terms aimed at ``field``."""
    needles: list[str] = []
    for term in positive_terms(tree):
        if term.field in (None, field):
            needles.extend(query_terms(term.text))
    return list(dict.fromkeys(needles))


class Compiler:
    """The query tree as a Whoosh query over ``kind``'s fields."""

    def __init__(self, kind: str, text_fields: tuple[str, ...],
                 exact_fields: tuple[str, ...]) -> None:
        self.kind = kind
        self.text_fields = text_fields
        self.exact_fields = exact_fields

    def compile(self, node: Node) -> Any:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, Not):
            inner = self.compile(node.part)
            return Q.Not(inner) if inner is not None else None
        parts = [p for p in (self.compile(part) for part in node.parts) if p is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0] if not isinstance(parts[0], Q.Not) else Q.And([Q.Every(), parts[0]])
        if isinstance(node, And):
            if all(isinstance(p, Q.Not) for p in parts):
                parts = [Q.Every(), *parts]
            return Q.And(parts)
        assert isinstance(node, Or)
        return Q.Or([Q.And([Q.Every(), p]) if isinstance(p, Q.Not) else p for p in parts])

    def _targets(self, field: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if field is None:
            return self.text_fields, self.exact_fields
        return ((field,) if field in self.text_fields else (),
                (field,) if field in self.exact_fields else ())

    def term(self, node: Term) -> Any:
        text_fields, exact_fields = self._targets(node.field)
        options: list[Any] = []
        units = query_units(node.text)
        if not units:  # stop words alone ask for nothing
            return None
        if text_fields:
            per_unit = []
            for unit in units:
                per_field = []
                for name in text_fields:
                    words = Q.And([Q.Term(f"t_{name}", w) for w in unit.words])
                    if unit.sequence == unit.words:
                        per_field.append(words)
                    else:  # the verbatim fallback: every bigram of the run in the field
                        grams = Q.And([Q.Term(f"t_{name}", g) for g in unit.sequence])
                        per_field.append(Q.Or([words, grams]))
                per_unit.append(Q.Or(per_field))
            options.append(Q.And(per_unit) if len(per_unit) > 1 else per_unit[0])
        if exact_fields and " " not in node.text.strip():
            forms = registry.exact_forms(self.kind, node.text)
            options.extend(Q.Term(f"x_{name}", keyword(form))
                           for name in exact_fields for form in forms)
        if not options:
            return None
        return Q.Or(options) if len(options) > 1 else options[0]

    def phrase(self, node: Phrase) -> Any:
        text_fields, exact_fields = self._targets(node.field)
        sequences = phrase_sequences(node.text)
        options: list[Any] = []
        if sequences and text_fields:
            per_field = []
            for name in text_fields:
                parts = [Q.Phrase(f"t_{name}", list(s)) if len(s) > 1
                         else Q.Term(f"t_{name}", s[0]) for s in sequences]
                per_field.append(Q.And(parts) if len(parts) > 1 else parts[0])
            options.append(Q.Or(per_field))
        if exact_fields:
            forms = registry.exact_forms(self.kind, node.text)
            options.extend(Q.Term(f"x_{name}", keyword(form))
                           for name in exact_fields for form in forms)
        if not options:
            return None
        return Q.Or(options) if len(options) > 1 else options[0]


class DocSet(Q.Query):
    """The documents of a set of top-level document numbers (a restriction computed
    already, by ``docs_of``): joined to the words with ``And``, Whoosh skips through the
    few documents it holds instead of walking every document a common word is in. It adds
    next to nothing to the score (a billionth)."""

    def __init__(self, docnums: frozenset[int]) -> None:
        self.docnums = docnums
        self.boost = 0.0

    def __repr__(self) -> str:
        return f"DocSet({len(self.docnums)} documents)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocSet) and self.docnums == other.docnums

    def __hash__(self) -> int:
        return hash(("DocSet", len(self.docnums)))

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docnums)

    def estimate_min_size(self, ixreader: Any) -> int:
        return len(self.docnums)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        offset = 0
        top = searcher.get_parent()
        if top is not searcher:  # a segment's searcher: its numbers start at its offset
            offset = next(o for leaf, o in top.leaf_searchers() if leaf is searcher)
        size = searcher.reader().doc_count_all()
        ids = sorted(d - offset for d in self.docnums if offset <= d < offset + size)
        if not ids:
            return matching.NullMatcher()
        # A weight of 0 reads as "none given" (1.0) to Whoosh: a billionth adds nothing.
        return matching.ListMatcher(ids, all_weights=1e-9)


DOCS_CACHE_SIZE = 500  # term document sets kept per searcher
SEGMENT_CACHE_DOCS = 20_000_000  # document numbers kept in per-segment sets (~1 GB at most)


def docs_of(searcher: Any, cache: dict[Any, frozenset[int]], query: Any,
            within: frozenset[int] | None = None) -> frozenset[int]:
    """The document numbers ``query`` matches (what ``docs_for_query`` gives), by set
    algebra over per-term sets kept in ``cache`` (one per searcher): a total and facet
    counts without walking Whoosh's matchers a second time. With ``within``, only those
    of its documents (the same as ``& within``, cheaper: a union of a title's common words
    or a "not" is built within the few documents the rest of the query left)."""
    if isinstance(query, Q.And):
        compound = (Q.And, Q.Or, Q.Not, Q.ConstantScoreQuery)
        leaves = [q for q in query.subqueries if not isinstance(q, compound)]
        parts = sorted((docs_of(searcher, cache, q) for q in leaves), key=len)
        found = within
        for part in parts:
            found = part if found is None else found & part
            if not found:
                return frozenset()
        for q in query.subqueries:
            if isinstance(q, compound):
                found = docs_of(searcher, cache, q, found)
                if not found:
                    return frozenset()
        return found if found is not None else docs_of(searcher, cache, Q.Every())
    if isinstance(query, Q.Or):
        union: set[int] = set()
        for q in query.subqueries:
            union |= docs_of(searcher, cache, q, within)
        return frozenset(union)
    if isinstance(query, Q.Not):
        every = within if within is not None else docs_of(searcher, cache, Q.Every())
        return every - docs_of(searcher, cache, query.query, within)
    if isinstance(query, Q.ConstantScoreQuery):
        return docs_of(searcher, cache, query.child, within)
    docs = _leaf_docs(searcher, cache, query)
    return docs if within is None else within & docs


def _leaf_docs(searcher: Any, cache: dict[Any, frozenset[int]], query: Any) -> frozenset[int]:
    if isinstance(query, Q.Term):
        key: Any = ("term", query.fieldname, query.text)
    elif isinstance(query, Q.Every):
        key = ("every",)
    elif isinstance(query, Q.NumericRange | Q.TermRange):  # dates: (field, bounds) names one
        key = ("range", query.fieldname, query.start, query.end, query.startexcl,
               query.endexcl)
    else:  # phrases: Whoosh's own matcher, not kept
        return frozenset(searcher.docs_for_query(query))
    docs = cache.get(key)
    if docs is None:
        if len(cache) > DOCS_CACHE_SIZE:
            cache.clear()
        docs = _segment_docs(searcher, query, key)
        cache[key] = docs
    return docs


# Per segment, across searchers: a segment's documents never change, only its deletions
# (which only grow), so (segment, deletions, term) names one set. A commit that adds a
# case makes one small new segment; the big ones keep their sets.
_SEGMENT_DOCS: dict[tuple[Any, ...], frozenset[int]] = {}
_segment_lock = threading.Lock()
_segment_held = [0]  # document numbers in _SEGMENT_DOCS


def _segment_docs(searcher: Any, query: Any, key: Any) -> frozenset[int]:
    parts: list[frozenset[int]] = []
    for leaf, offset in searcher.leaf_searchers():
        segment = leaf.reader().segment()
        if segment is None:  # not a segment's reader: no key to keep the set under
            local = frozenset(leaf.docs_for_query(query))
        else:
            name = (segment.segment_id(), segment.deleted_count(), key)
            local = _SEGMENT_DOCS.get(name)
            if local is None:
                local = frozenset(leaf.docs_for_query(query))
                with _segment_lock:
                    if _segment_held[0] + len(local) > SEGMENT_CACHE_DOCS:
                        _SEGMENT_DOCS.clear()
                        _segment_held[0] = 0
                    _SEGMENT_DOCS[name] = local
                    _segment_held[0] += len(local)
        parts.append(local if offset == 0 else frozenset(d + offset for d in local))
    if len(parts) == 1:
        return parts[0]
    return frozenset().union(*parts)
