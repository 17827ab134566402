"""Filter values as lexemes (PostgreSQL backend): a search with words checks its filters in
the GIN index of ``tsv``, with the words, before any row is read.

A filter most rows pass (one status: ~20 % of the cases) used to be checked on each row
the words matched (its own GIN bitmap on ``filters`` holds every row of that status), so a
word in 30,000 cases was read 30,000 times to keep the 6,000 of one status: a heap fetch
of a ~2 KB row each. So each row's ``tsv`` also holds its filter values as lexemes without
position (``'%status="in_progress"'``, ``'%department_id=3'``, ``'%overdue="no"'``), and a
search with words ANDs them to its ``tsquery`` (``filter_tsquery``): GIN's fast scan walks
the rarer side and skips through the other, so only the rows with both are read.

The lexeme of a value is its JSON text as ``filters`` stores it (jsonb's own output: a
string quoted and escaped, an integer in digits, ``true``/``false``; a float with an
integral value as that integer), so a lexeme matches exactly where ``filters @>
{"name": [value]}`` does, the string ``"3"`` and the number ``3`` apart (``alternatives``
asks for both, as the jsonb clause does). Other values (a fractional number, a value past
PostgreSQL's 2,047 bytes a lexeme) have no lexeme, and a filter asking for one is checked
through ``filters`` as before. No query lexeme starts with "%" (``code:term``, ``=value``;
periods ``@``), and ranking reads the words alone (``ts_rank_cd`` of ``:tsquery``), so the
lexemes change no answer. Migration 0020 adds them to the rows of an older index
(``FILTERS_SQL``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from search.engine.pg_query import MAX_LEXEME_BYTES, quote
from search.engine.types import FilterValue

PREFIX = "%"
# The words' clause when filters are folded into it (``pg_statements.where_clause``).
FILTERED_MATCH = "tsv @@ CAST(:filtered_tsquery AS tsquery)"

# The same lexemes in SQL, from the stored ``filters`` (migration 0020 adds them to rows
# written before; kept beside ``filter_lexemes``, which writes them for new rows).
FILTERS_SQL = (
    "coalesce(array_to_tsvector(ARRAY(SELECT DISTINCT lexeme FROM ("
    "SELECT '%' || f.key || '=' || CASE jsonb_typeof(v.value) "
    "WHEN 'string' THEN v.value::text WHEN 'boolean' THEN v.value::text "
    "WHEN 'number' THEN CASE WHEN v.value::text::numeric = trunc(v.value::text::numeric) "
    "THEN trunc(v.value::text::numeric)::text END END AS lexeme "
    "FROM jsonb_each(filters) AS f, jsonb_array_elements(CASE jsonb_typeof(f.value) "
    "WHEN 'array' THEN f.value ELSE jsonb_build_array(f.value) END) AS v) AS l "
    "WHERE lexeme IS NOT NULL AND octet_length(lexeme) <= 2000)), ''::tsvector)"
)


def value_text(value: Any) -> str | None:
    """A filter value as jsonb writes it (None: no lexeme for it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return None


def filter_lexeme(name: str, value: Any) -> str | None:
    """The lexeme of one filter value (unquoted), or None."""
    written = value_text(value)
    if written is None:
        return None
    entry = f"{PREFIX}{name}={written}"
    return entry if len(entry.encode()) <= MAX_LEXEME_BYTES else None


def filter_lexemes(filters: str) -> str:
    """The quoted lexemes of a row's ``filters`` (its JSON text, as stored)."""
    found: dict[str, None] = {}
    for name, values in json.loads(filters).items():
        for value in values if isinstance(values, list) else [values]:
            entry = filter_lexeme(name, value)
            if entry is not None:
                found[quote(entry)] = None
    return " ".join(found)


def alternatives(value: FilterValue) -> list[FilterValue]:
    """A filter value and its twin of the other type ("3" and 3): URLs bring strings."""
    if isinstance(value, bool):
        return [value]
    if isinstance(value, int):
        return [value, str(value)]
    if isinstance(value, str) and value.isdigit() and len(value) < 18:
        return [value, int(value)]
    return [value]


def filter_tsquery(name: str, values: Iterable[FilterValue]) -> str | None:
    """Any of ``values`` of filter ``name`` as a tsquery of lexemes, or None when one of
    them has no lexeme (the filter is then checked through ``filters``)."""
    entries = []
    for value in (v for val in values for v in alternatives(val)):
        entry = filter_lexeme(name, value)
        if entry is None:
            return None
        entries.append(quote(entry))
    if not entries:
        return None
    entries = list(dict.fromkeys(entries))
    return entries[0] if len(entries) == 1 else "(" + " | ".join(entries) + ")"


def foldable(filters: Mapping[str, Iterable[FilterValue]]) -> frozenset[str]:
    """The filters whose every value has a lexeme (checked in the words' tsquery)."""
    return frozenset(name for name, values in filters.items()
                     if values and filter_tsquery(name, values) is not None)
