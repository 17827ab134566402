"""Documents to ``tsvector`` literals and query trees to ``tsquery`` text (PostgreSQL backend).

PostgreSQL ships no Chinese parser, and its default parser would cut a run of Chinese
characters as one word. So nothing reaches ``to_tsvector``: the engine's analysis
(``search.engine.text``: jieba words, character bigrams, stemmed English, with
positions) builds the lexemes in Python, and they are handed to PostgreSQL as a
``tsvector`` literal (``'b:积水':3B``); queries are ``tsquery`` literals of the same
lexemes. Literals bypass every parser and dictionary, so the two sides meet exactly.

Lexemes of a document:
- every analysed term, qualified by its field (``t:积水`` in the title; the big fields
  have one-letter codes, the others their name: ``district:朝阳``), at its position and
  with the field's weight (title A; body and replies B; notes C; every other field D).
  A query looks in the fields it may (``title:积水`` in one; a client never in
  ``notes``; otherwise in each text field of the kind, ORed), so one lexeme per term and
  field is all the index holds;
- exact values (``=2026-000123`` and ``=number:2026-000123``), weight A.
Fields follow each other with a gap of positions, so a phrase never spans two fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from search.engine import registry
from search.engine.query import And, Node, Not, Phrase, Term
from search.engine.text import (
    index_tokens,
    normalise,
    phrase_sequences,
    query_units,
)
from search.engine.types import Document

WEIGHTS = {"title": "A", "body": "B", "replies": "B", "notes": "C"}
# Short prefixes of the big fields (no source names a field "t", "b", "r" or "n").
CODES = {"title": "t", "body": "b", "replies": "r", "notes": "n"}
MAX_POSITION = 16383  # PostgreSQL's limit; later positions are clamped to it
MAX_POSITIONS = 256  # per lexeme (PostgreSQL keeps no more)
MAX_LEXEME_BYTES = 2000  # PostgreSQL's limit is 2047 bytes
FIELD_GAP = 8

EVERYTHING = "\x00all"  # a query part that matches every document
NOTHING = "\x00none"  # a query part that matches none
IGNORED = "\x00skip"  # a query part that asks nothing (stop words only): left out


def weight(field: str) -> str:
    return WEIGHTS.get(field, "D")


def quote(lexeme: str) -> str:
    """A lexeme as a quoted ``tsvector``/``tsquery`` literal."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def lexeme(term: str, field: str) -> str:
    """``term`` as a lexeme of ``field``."""
    return f"{CODES.get(field, field)}:{term}"


def exact_lexeme(value: str, field: str | None = None) -> str:
    value = normalise(value).strip()
    return f"={field}:{value}" if field else f"={value}"


def _quoted(entry: str) -> str | None:
    """A lexeme quoted for the literal; None if it is empty or too long for PostgreSQL."""
    if not entry or len(entry.encode()) > MAX_LEXEME_BYTES:
        return None
    return quote(entry)


_ENTRIES: dict[str, dict[str, str | None]] = {}  # field -> term -> quoted lexeme (or None)
_ENTRIES_KEPT = 20_000  # terms kept per field (a rebuild meets the same ones again)


def _entries(field: str) -> dict[str, str | None]:
    known = _ENTRIES.setdefault(field, {})
    if len(known) > _ENTRIES_KEPT:
        known.clear()
    return known


def tsvector_literal(document: Document) -> str:
    """The ``tsvector`` of ``document`` as literal text (lexemes, positions, weights).

    A lexeme belongs to one field (its code), so to one weight: positions are kept as
    numbers and written with the weight at the end; quoted lexemes are kept per field
    (quoting and encoding each term was ~15 % of a rebuild's analysis)."""
    positions: dict[str, list[int]] = {}  # quoted lexeme -> positions
    labels: dict[str, str] = {}  # quoted lexeme -> weight
    offset = 1
    for field in sorted(document.text):
        label = weight(field)
        known = _entries(field)
        last = 0
        for term, position in index_tokens(document.text[field] or ""):
            last = position
            entry = known.get(term, "")
            if entry == "":
                entry = known[term] = _quoted(lexeme(term, field))
            if entry is None:
                continue
            slots = positions.get(entry)
            if slots is None:
                positions[entry] = [offset + position]
                labels[entry] = label
            elif labels[entry] != label:
                return _literal(document)  # two fields, one code: never (see CODES)
            elif len(slots) < MAX_POSITIONS:
                slots.append(offset + position)
        offset += last + FIELD_GAP
    for field in sorted(document.exact):
        for value in document.exact[field]:
            if value:
                for entry in (_quoted(exact_lexeme(value)), _quoted(exact_lexeme(value, field))):
                    if entry is None:
                        continue
                    slots = positions.get(entry)
                    if slots is None:
                        positions[entry] = [offset]
                        labels[entry] = "A"
                    elif labels[entry] != "A":
                        return _literal(document)
                    elif len(slots) < MAX_POSITIONS:
                        slots.append(offset)
                offset += FIELD_GAP
    out = []
    for entry, slots in positions.items():
        label = labels[entry]
        if len(slots) == 1:
            out.append(f"{entry}:{min(slots[0], MAX_POSITION)}{label}")
        else:
            clamped = dict.fromkeys(min(p, MAX_POSITION) for p in slots)
            out.append(f"{entry}:" + ",".join([f"{p}{label}" for p in clamped]))
    return " ".join(out)


def _literal(document: Document) -> str:
    """``tsvector_literal`` position by position, each with its own weight (the general
    case: a lexeme met in fields of different weights)."""
    positions: dict[str, list[str]] = {}

    def add(entry: str | None, position: int, label: str) -> None:
        if entry is None:
            return
        slots = positions.setdefault(entry, [])
        if len(slots) < MAX_POSITIONS:
            slots.append(f"{min(position, MAX_POSITION)}{label}")

    offset = 1
    for field in sorted(document.text):
        label = weight(field)
        last = 0
        for term, position in index_tokens(document.text[field] or ""):
            add(_quoted(lexeme(term, field)), offset + position, label)
            last = position
        offset += last + FIELD_GAP
    for field in sorted(document.exact):
        for value in document.exact[field]:
            if value:
                add(_quoted(exact_lexeme(value)), offset, "A")
                add(_quoted(exact_lexeme(value, field)), offset, "A")
                offset += FIELD_GAP
    return " ".join(
        f"{entry}:{','.join(dict.fromkeys(slots))}" for entry, slots in positions.items()
    )


# --- queries ----------------------------------------------------------------------------


def _any(parts: Iterable[str]) -> str:
    parts = [p for p in dict.fromkeys(parts) if p != NOTHING]
    if EVERYTHING in parts:
        return EVERYTHING
    if not parts:
        return NOTHING
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _all(parts: Iterable[str]) -> str:
    parts = [p for p in dict.fromkeys(parts) if p != EVERYTHING]
    if NOTHING in parts:
        return NOTHING
    if not parts:
        return EVERYTHING
    return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


def _not(part: str) -> str:
    if part == EVERYTHING:
        return NOTHING
    if part == NOTHING:
        return EVERYTHING
    return f"!{part}"


class Compiler:
    """Compiles a query tree to ``tsquery`` text for one request, with the Whoosh
    backend's meaning (one test suite holds both to the same answers).

    ``searched``: the text fields the viewer searches; ``exact``: the kind's exact fields
    (None: unknown, any exact field). A term is its units ANDed; a unit matches where
    its words all stand in one field or its sequence stands there verbatim; or the term
    is an exact value.
    """

    def __init__(self, kind: str, searched: Sequence[str], exact: Sequence[str] | None) -> None:
        self.kind = kind
        self.searched = tuple(searched)
        self.exact = tuple(exact) if exact is not None else None

    def compile(self, node: Node | None) -> str:
        """The tsquery text, or ``EVERYTHING`` / ``NOTHING``."""
        result = self._node(node) if node is not None else IGNORED
        return EVERYTHING if result == IGNORED else result

    def _node(self, node: Node) -> str:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, Not):
            inner = self._node(node.part)
            return IGNORED if inner == IGNORED else _not(inner)
        parts = [p for p in (self._node(part) for part in node.parts) if p != IGNORED]
        if not parts:
            return IGNORED
        return _all(parts) if isinstance(node, And) else _any(parts)

    def _fields(self, field: str | None) -> tuple[str, ...]:
        if field is None:
            return self.searched
        return (field,) if field in self.searched else ()

    @staticmethod
    def _chain(sequence: Sequence[str], field: str) -> str:
        """``sequence`` at consecutive positions of ``field`` (bigrams, words in a row)."""
        lexemes = [quote(lexeme(t, field)) for t in sequence]
        return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"

    def _exact(self, text: str, field: str | None) -> list[str]:
        if " " in text.strip():
            return []
        if field is not None:
            if self.exact is not None and field not in self.exact:
                return []
        elif self.exact is not None and not self.exact:
            return []
        return [quote(exact_lexeme(form, field)) for form in registry.exact_forms(self.kind, text)]

    def term(self, node: Term) -> str:
        units = query_units(node.text)
        if not units:  # stop words or punctuation alone ask for nothing: left out
            return IGNORED
        fields = self._fields(node.field)
        options: list[str] = []
        if fields:
            matches = []
            for unit in units:
                alternatives = []
                for field in fields:
                    alternatives.append(_all(quote(lexeme(w, field)) for w in unit.words))
                    if unit.sequence != unit.words:
                        alternatives.append(self._chain(unit.sequence, field))
                matches.append(_any(alternatives))
            options.append(_all(matches))
        options.extend(self._exact(node.text, node.field))
        return _any(options) if options else IGNORED

    def phrase(self, node: Phrase) -> str:
        """Every sequence at consecutive positions, all in one field; or an exact value."""
        sequences = phrase_sequences(node.text)
        if not sequences:
            return IGNORED
        options = [
            _all(self._chain(seq, field) for seq in sequences)
            for field in self._fields(node.field)
        ]
        options.extend(self._exact(node.text, node.field))
        return _any(options) if options else IGNORED
