"""One way to cut a list into pages (every paginated list and the ``pager`` macro).

``paginate(stmt, page, per_page)`` runs the page's ``LIMIT/OFFSET`` query and a count, or,
with ``count=False``, fetches one row more than the page instead of counting (a list whose
total is never shown). The page number comes from ``portal.params.page_arg``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from portal.db import db

T = TypeVar("T")
U = TypeVar("U")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and what the ``pager`` macro reads.

    ``total`` is None for a count-less page; ``has_next`` then says whether a further row
    exists.
    """

    items: list[T]
    page: int
    per_page: int
    total: int | None
    more: bool = False  # count-less pages: a row beyond this page exists

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.total is None:
            return self.more
        return self.page < (self.pages or 0)

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each item converted (rows → display objects)."""
        return replace(self, items=[convert(item) for item in self.items])  # type: ignore[arg-type]


def paginate(
    stmt: Select,
    page: int,
    per_page: int,
    *,
    count: bool | Select = True,
    scalars: bool = True,
) -> Page[Any]:
    """Page ``page`` (from 1) of ``stmt``, at most ``per_page`` (≤ 100) items.

    ``count``: True counts ``stmt`` (without its ORDER BY and eager loads); a ``Select`` is
    run as the count instead (a cheaper statement giving the same total); False counts
    nothing and reads one extra row. ``scalars=False`` keeps whole rows (several columns).
    A page beyond the last one is empty, not an error.
    """
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    offset = (page - 1) * per_page
    fetch = per_page + 1 if count is False else per_page
    result = db.session.execute(stmt.limit(fetch).offset(offset))
    # unique(): a joined eager load repeats an entity once per joined row
    rows = list(result.unique().scalars() if scalars else result.all())
    if count is False:
        return Page(rows[:per_page], page, per_page, None, more=len(rows) > per_page)
    if count is True:
        sub = stmt.options(lazyload("*")).order_by(None).subquery()
        count = select(func.count()).select_from(sub)
    return Page(rows, page, per_page, db.session.scalar(count) or 0)
