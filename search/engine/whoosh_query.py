"""The query tree compiled for Whoosh (``search.engine.whoosh_backend``).

A term looks in every searchable text field of the kind (or its prefix's): each run of
the term matches where all its jieba words stand in a field, or all its character
bigrams do (the verbatim fallback); a word also matches an exact field whole (tracking
numbers in both forms, a source's keyed hashes). A phrase asks for consecutive positions.
"""

from __future__ import annotations

from typing import Any

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
