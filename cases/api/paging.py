"""Cursor pagination: ``?cursor=&limit=`` in, ``next_cursor`` out (null on the last page).

Case lists page by keyset: the cursor holds the sort, the last row's sort value and id,
and the next page starts strictly after it (``WHERE (col, id) > (v, i)``, spelt out so
NULLs sort last), so page 5,000 costs what page 1 costs and a case filed meanwhile never
shifts a page. Full-text results page by the engine's ranked pages, and the small lists
(answers, ratings) by position; their cursors are opaque all the same.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, or_

from cases.api.errors import ApiError
from cases.models import Case

# sort -> (column, ascending); ties broken by id in the same direction; NULLs last.
KEYSETS: dict[str, tuple[Any, bool]] = {
    "due": (Case.due_at, True),
    "newest": (Case.created_at, False),
    "oldest": (Case.created_at, True),
    "replied": (Case.replied_at, True),
}


def encode(payload: list[Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> list[Any]:
    """The cursor's payload; a cursor this API did not write is a 400 ``bad_cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc
    if not isinstance(payload, list) or not payload:
        raise bad_cursor()
    return payload


def bad_cursor() -> ApiError:
    return ApiError(400, "bad_cursor", _("This cursor cannot be read; start from the first "
                                         "page."), fields={"cursor": _("Not a cursor.")})


@dataclass(frozen=True)
class Keyset:
    sort: str
    value: datetime | None
    id: int


def read_keyset(cursor: str, sort: str) -> Keyset:
    payload = decode(cursor)
    if len(payload) != 4 or payload[0] != "k" or payload[1] != sort:
        raise bad_cursor()
    _kind, _sort, value, ident = payload
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**31:
        raise bad_cursor()
    if value is not None:
        if not isinstance(value, str):
            raise bad_cursor()
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise bad_cursor() from exc
        if value.tzinfo is None:
            raise bad_cursor()
    return Keyset(sort, value, ident)


def _after_value(column: Any, ascending: bool, keyset: Keyset) -> ColumnElement[bool]:
    """Non-NULL rows after the cursor, spelt so an index on (column, id) serves the range."""
    if ascending:
        return and_(column >= keyset.value, or_(column > keyset.value, Case.id > keyset.id))
    return and_(column <= keyset.value, or_(column < keyset.value, Case.id < keyset.id))


def keyset_page(stmt: Select, sort: str, cursor: str | None, limit: int,
                session) -> tuple[list[Case], str | None]:
    """One page of ``stmt`` (a ``select(Case)``) in ``sort`` order after ``cursor``.

    The rows with a value come first (one index range), then, when the page is not full,
    the rows without one (NULLs last, by id): two plain range scans instead of one OR.
    """
    column, ascending = KEYSETS[sort]
    keyset = read_keyset(cursor, sort) if cursor else None
    stmt = stmt.order_by(None)
    rows: list[Case] = []
    if keyset is None or keyset.value is not None:
        valued = stmt.where(column.is_not(None))
        if keyset is not None:
            valued = valued.where(_after_value(column, ascending, keyset))
        order = (column.asc(), Case.id.asc()) if ascending else (column.desc(), Case.id.desc())
        rows = list(session.scalars(valued.order_by(*order).limit(limit + 1)).unique())
    if len(rows) <= limit:
        nulls = stmt.where(column.is_(None))
        if keyset is not None and keyset.value is None:
            nulls = nulls.where(Case.id > keyset.id if ascending else Case.id < keyset.id)
        order_id = Case.id.asc() if ascending else Case.id.desc()
        rows += list(session.scalars(nulls.order_by(order_id).limit(limit + 1 - len(rows)))
                     .unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    value = getattr(last, column.key)
    return rows, encode(["k", sort, value.isoformat() if value else None, last.id])


def read_position(cursor: str | None, kind: str) -> int:
    """The offset a position cursor (``[kind, n]``) holds; 0 without one."""
    if not cursor:
        return 0
    payload = decode(cursor)
    if len(payload) != 2 or payload[0] != kind or not isinstance(payload[1], int) \
            or isinstance(payload[1], bool) or not 0 <= payload[1] <= 10_000_000:
        raise bad_cursor()
    return payload[1]


def position_cursor(kind: str, offset: int) -> str:
    return encode([kind, offset])
