"""The reports' counters, each added to by one cached statement: ``INSERT … ON CONFLICT
(key) DO UPDATE SET n = table.n + excluded.n`` (SQLite ≥ 3.35 and PostgreSQL alike), and
the rebuilds' inserts of whole tables of counts (``write_counts``).

SQLAlchemy's dialect upserts (``sqlite.insert(t).on_conflict_do_update(...)``) carry no
cache key: every execution built the statement and its ``excluded`` alias and compiled it
anew, ~1 ms of CPU each, and a filing runs three (the daily totals, the flows, the
durations' histograms on later steps). The same SQL as a ``text`` statement with typed
parameters (each column's own type: dates, enums bound as before) is compiled once.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.engine import Connection

_MADE: dict[tuple, TextClause] = {}


def adding(connection: Connection, table: Table, keys: tuple[str, ...],
           amount: str) -> TextClause:
    """The upsert that adds ``amount`` to ``table``'s row of ``keys`` (its unique key, in
    the order of the conflict target), inserting the row when missing; parameters are
    named after the columns."""
    dialect = connection.dialect
    slot = (table.name, keys, amount, dialect.name)
    made = _MADE.get(slot)
    if made is None:
        quote = dialect.identifier_preparer.quote
        names = (*keys, amount)
        into, total = quote(table.name), quote(amount)
        # Table and column names come from the models, quoted; values are parameters.
        sql = (f"INSERT INTO {into} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
               f"VALUES ({', '.join(':' + n for n in names)}) "
               f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) "
               f"DO UPDATE SET {total} = {into}.{total} + excluded.{total}")
        made = text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names))
        _MADE[slot] = made
    return made


def write_counts(connection: Connection, table: Table, keys: tuple[str, ...], amount: str,
                 found: Mapping[tuple, int]) -> int:
    """Insert a row per non-zero count of ``found`` (``{key tuple: n}``, the tuple in the
    order of ``keys``), in chunks; the number of rows written (the rebuilds', after they
    emptied what they replace)."""
    rows = [{**dict(zip(keys, key, strict=True)), amount: n}
            for key, n in found.items() if n]
    for start in range(0, len(rows), 5000):
        connection.execute(table.insert(), rows[start:start + 5000])
    return len(rows)
