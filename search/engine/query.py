"""The query language, parsed once into a tree that every backend compiles.

Syntax (the search page's help says the same):
  积水 路面          both words (AND is the default between terms)
  积水 OR 漏水       either; ``|`` works too
  积水 NOT 小区      without; ``-小区`` works too
  "电梯 故障"        the words next to each other, in order (a phrase)
  title:积水         only in that field (``title``, ``body``, ``replies``, ``notes``,
                     ``number``, ``category``, ``department``, ``district`` ...)
  (积水 OR 漏水) 小区  grouping
Operators are upper-case words or their symbols; 2026-000123 and 2026000123 are
tracking numbers (an exact field). ``parse`` raises ``QuerySyntaxError`` (localised)
for what it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    text: str  # normalised (search.engine.text.normalise); may hold several words
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Term | Phrase | And | Or | Not


def parse(text: str, fields: frozenset[str] | None = None) -> Node | None:
    """The tree of ``text`` (None for an empty query). ``fields``: allowed field prefixes
    (an unknown one is a ``QuerySyntaxError``). Implemented in issue 11."""
    raise NotImplementedError
