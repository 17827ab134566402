"""The sources the rooms registered, and what the engine asks of them by ``kind``.

A source is a ``search.engine.types.Source``; it may also declare (all optional):
``text_fields`` (every text field it fills), ``public_fields`` (those a client may
search), ``exact_fields`` (keyword fields matched whole) and ``exact_forms(token)`` (the
values a query word should match in the exact fields, e.g. a keyed hash of a phone
number: the engine never sees the clear identifier in the index).
"""

from __future__ import annotations

from search.engine.text import normalise, tracking_forms
from search.engine.types import Source

_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Make ``source``'s documents searchable (one source per ``kind``; the last wins)."""
    _SOURCES[source.kind] = source


def sources() -> list[Source]:
    return list(_SOURCES.values())


def source(kind: str) -> Source | None:
    return _SOURCES.get(kind)


def unregister(kind: str) -> None:
    """Forget ``kind`` (tests that register a fake source)."""
    _SOURCES.pop(kind, None)


def text_fields(kind: str) -> tuple[str, ...] | None:
    """Every text field of ``kind``, if its source says (None: ask the index)."""
    return getattr(_SOURCES.get(kind), "text_fields", None)


def exact_fields(kind: str) -> tuple[str, ...] | None:
    return getattr(_SOURCES.get(kind), "exact_fields", None)


def exact_forms(kind: str, word: str) -> list[str]:
    """The values a query word matches in ``kind``'s exact fields: the word itself, both
    forms of a tracking number, and whatever the source adds (keyed hashes)."""
    word = normalise(word).strip()
    forms = [word, *tracking_forms(word)]
    extra = getattr(_SOURCES.get(kind), "exact_forms", None)
    if extra is not None:
        forms.extend(extra(word))
    return list(dict.fromkeys(f for f in forms if f))
