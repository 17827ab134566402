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

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _

from search.engine.text import normalise, plain_words
from search.engine.types import QuerySyntaxError

MAX_QUERY_LENGTH = 200  # characters
MAX_TERMS = 32


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
    (an unknown one is a ``QuerySyntaxError``; None allows any)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            _("The search query is too long (at most %(count)d characters).",
              count=MAX_QUERY_LENGTH)
        )
    tokens = _tokens(text, fields)
    if not tokens:
        return None
    if sum(1 for kind, _value, _field in tokens if kind in ("term", "phrase")) > MAX_TERMS:
        raise QuerySyntaxError(
            _("The search query has too many words (at most %(count)d).", count=MAX_TERMS)
        )
    parser = _Parser(tokens)
    node = parser.expression()
    if parser.peek() is not None:  # a ")" without its "("
        raise QuerySyntaxError(_("The search query has a “)” without its “(”."))
    return node


def any_word_query(text: str, limit: int = MAX_TERMS) -> str:
    """A query finding documents with any word of ``text`` (``路灯 OR 不亮``), ranked by
    relevance: for "what looks like this title" (duplicates while filing).

    Whatever ``text`` holds (quotes, colons, brackets, AND/OR/NOT, a dash), the query
    is plain words joined by OR, within ``MAX_QUERY_LENGTH`` and ``limit`` words, so
    ``parse`` reads it. Single Chinese characters (的, 了) are left out when the text has
    longer words. Empty when the text has no word.
    """
    words = [w for w in plain_words(text) if w.upper() not in _OPERATORS]
    if any(len(w) > 1 for w in words):
        words = [w for w in words if len(w) > 1 or w.isascii()]
    query = ""
    for word in words[: max(0, min(limit, MAX_TERMS))]:
        longer = f"{query} OR {word}" if query else word
        if len(longer) > MAX_QUERY_LENGTH:
            break
        query = longer
    return query


def positive_terms(node: Node | None) -> list[Term | Phrase]:
    """The terms and phrases ``node`` looks for (not those under NOT): for highlights."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, Term | Phrase):
        return [node]
    return [term for part in node.parts for term in positive_terms(part)]


def fields_used(node: Node | None) -> set[str]:
    """The field prefixes ``node`` names."""
    if node is None:
        return set()
    if isinstance(node, Term | Phrase):
        return {node.field} if node.field else set()
    if isinstance(node, Not):
        return fields_used(node.part)
    return {name for part in node.parts for name in fields_used(part)}


# --- tokens ------------------------------------------------------------------------------

_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」"}
_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,30}):(?=\S)")
_OPERATORS = {"AND": "and", "OR": "or", "NOT": "not", "&&": "and", "||": "or", "|": "or"}
_STOP = set(" \t\r\n()") | set(_QUOTES)

Token = tuple[str, str, str | None]  # (kind, value, field)


def _tokens(text: str, fields: frozenset[str] | None) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            tokens.append(("(" if char == "(" else ")", char, None))
            i += 1
            continue
        field = None
        match = _FIELD_RE.match(text, i)
        if match:
            field = match.group(1).lower()
            if fields is not None and field not in fields:
                raise QuerySyntaxError(
                    _("“%(field)s:” is not a field you can search. Fields: %(fields)s.",
                      field=match.group(1), fields=", ".join(sorted(fields)) or "—")
                )
            i = match.end()
            char = text[i]
            if char in "()":
                raise QuerySyntaxError(
                    _("A field prefix such as “%(field)s:” takes a word or a quoted phrase.",
                      field=field)
                )
        if char in _QUOTES:
            close = text.find(_QUOTES[char], i + 1)
            if close == -1 and char == "“":
                close = text.find('"', i + 1)
            if close == -1:
                raise QuerySyntaxError(_("The search query has an unclosed quotation mark."))
            value = normalise(text[i + 1 : close]).strip()
            if value:
                tokens.append(("phrase", value, field))
            i = close + 1
            continue
        j = i
        while j < n and text[j] not in _STOP:
            j += 1
        word = text[i:j]
        i = j
        if field is None and word in _OPERATORS:
            tokens.append((_OPERATORS[word], word, None))
        elif field is None and word.startswith("-") and len(word) > 1:
            tokens.append(("not", "-", None))
            i -= len(word) - 1  # read the rest again as a word
        elif field is None and word == "-":
            raise QuerySyntaxError(_("“-” must stand right before the word it excludes."))
        else:
            value = normalise(word)
            if re.search(r"\w", value):  # punctuation alone looks for nothing
                tokens.append(("term", value, field))
    return tokens


class _Parser:
    """or := and ("OR" and)* ; and := unary (["AND"] unary)* ; unary := "NOT" unary | atom"""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def dangling(self, operator: str) -> QuerySyntaxError:
        return QuerySyntaxError(
            _("“%(operator)s” needs a word on each side.", operator=operator)
            if operator != "NOT"
            else _("“NOT” needs a word after it.")
        )

    def expression(self) -> Node:
        if self.peek() in ("or", "and"):
            raise self.dangling(self.tokens[self.at][1])
        parts = [self.conjunction()]
        while self.peek() == "or":
            operator = self.take()[1]
            if self.peek() in (None, ")", "or", "and"):
                raise self.dangling(operator)
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.unary()]
        while self.peek() not in (None, ")", "or"):
            if self.peek() == "and":
                operator = self.take()[1]
                if self.peek() in (None, ")", "or", "and"):
                    raise self.dangling(operator)
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        kind = self.peek()
        if kind == "not":
            self.take()
            if self.peek() in (None, ")", "or", "and"):
                raise self.dangling("NOT")
            return Not(self.unary())
        if kind == "(":
            self.take()
            if self.peek() == ")":
                raise QuerySyntaxError(_("The search query has empty brackets “()”."))
            node = self.expression()
            if self.peek() != ")":
                raise QuerySyntaxError(_("The search query has a “(” without its “)”."))
            self.take()
            return node
        if kind is None:
            raise QuerySyntaxError(_("The search query has a “(” without its “)”."))
        if kind == ")":
            raise QuerySyntaxError(_("The search query has a “)” without its “(”."))
        kind, value, field = self.take()
        return Term(value, field) if kind == "term" else Phrase(value, field)
