"""The page's hits of a PostgreSQL search, with their snippets (made in Python by the
engine's ``highlight`` on the stored text: ``ts_headline`` would parse Chinese again with
PostgreSQL's parser, which cannot cut it)."""

from __future__ import annotations

from typing import Any

from search.engine.query import positive_terms
from search.engine.text import highlight, query_terms
from search.engine.types import Hit, SearchRequest


def page_hits(request: SearchRequest, tree: Any, rows: list[tuple[int, float, Any]]
              ) -> list[Hit]:
    """The page's hits (id, score, stored texts), with snippets of the fields asked for
    (and searchable)."""
    fields = request.highlight
    if request.fields is not None:  # never a snippet of a field the viewer may not search
        fields = tuple(f for f in fields if f in request.fields)
    terms = needles(tree, fields) if fields else {}
    hits = []
    for doc_id, rank, stored in rows:
        marks: dict[str, str] = {}
        for field in fields:
            snippet = highlight((stored or {}).get(field, ""), terms.get(field, []))
            if snippet:
                marks[field] = snippet
        hits.append(Hit(kind=request.kind, id=doc_id, score=float(rank), highlights=marks))
    return hits


def needles(tree: Any, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Per field, the analysed terms of the query's positive terms aimed at it."""
    found: dict[str, list[str]] = {field: [] for field in fields}
    for term in positive_terms(tree):
        for field in fields:
            if term.field in (None, field):
                found[field].extend(query_terms(term.text))
    return {field: list(dict.fromkeys(terms)) for field, terms in found.items()}
