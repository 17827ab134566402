"""What every figure shares: the three periods, how rows are keyed and labelled, who may
read which rows, and the statistics SQLite cannot do (median, p90).

Part of the one reports service; ``cases.reports.figures`` re-exports the public names.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true

from cases.models import Case, CaseEvent, Category
from cases.reports.models import department_of
from cases.reports.periods import Period
from cases.reports.scope import ReportReach, case_scope, report_reach
from cases.reports.tables import Cell, Row
from portal.db import db
from portal.models import Department, District, User

GROUPS = ("department", "category", "district", "staff")
# The steps that hand a case to a lead department (details: {"department": id}).
DISPATCHES = ("dispatch", "route", "transfer")
PERIOD_SLOTS = ("value", "previous", "year_before")

GROUP_LABELS = {
    "department": _l("Department"),
    "category": _l("Category"),
    "district": _l("District"),
    "staff": _l("Staff member"),
}


class FigureError(ValueError):
    """A figure or grouping the reports do not know (the view answers 404)."""


def three_periods(period: Period) -> tuple[Period, Period, Period]:
    """The period, the one before it and the same period a year before."""
    return period, period.previous(), period.year_before()


def case_group(by: str) -> ColumnElement:
    """The ``cases`` column a row is keyed by for figures read off the case itself."""
    if by not in GROUPS:
        raise FigureError(f"unknown grouping {by!r}")
    return {
        "department": Case.department_id,
        "category": Case.category_id,
        "district": Case.district_id,
        "staff": Case.assignee_id,
    }[by]


def dispatched_department(event=CaseEvent) -> ColumnElement:
    """The department a dispatch, routing or transfer handed the case to (timeline;
    ``event``: ``CaseEvent`` or an alias of it), as ``ix_case_events_department`` holds
    it."""
    return department_of(event.details)


def rows_scope(by: str, viewer: User) -> ColumnElement:
    """SQL that narrows the cases a grouping is computed over.

    By department or staff the rows themselves are narrowed (``allowed_keys``): a
    department's row counts its work on cases since moved elsewhere. By category or
    district a head reads their department's cases, a handler their own.
    """
    if by in ("department", "staff") and report_reach(viewer) in (
        ReportReach.CITY, ReportReach.DEPARTMENT
    ):
        return true()
    return case_scope(viewer)


def allowed_keys(by: str, viewer: User) -> set | None:
    """The row keys ``viewer`` may read (None: every row)."""
    reach = report_reach(viewer)
    if reach is ReportReach.CITY or by in ("category", "district"):
        return None
    if reach is ReportReach.NONE:
        return set()
    if by == "department":
        return {viewer.department_id}
    if reach is ReportReach.SELF:
        return {viewer.id}
    return set(db.session.scalars(
        select(User.id).where(User.department_id == viewer.department_id)
    ))


def labels(by: str, keys: Iterable) -> dict:
    """Row labels (in the reader's language) and an order, for the ids in ``keys``."""
    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    if by == "department":
        found = db.session.scalars(select(Department).where(Department.id.in_(ids))
                                   .order_by(Department.sort_key, Department.id))
        return {d.id: d.name for d in found}
    if by == "category":
        found = db.session.scalars(select(Category).where(Category.id.in_(ids))
                                   .order_by(Category.code, Category.id))
        return {c.id: c.name for c in found}
    if by == "district":
        found = db.session.scalars(select(District).where(District.id.in_(ids))
                                   .order_by(District.position, District.sort_key, District.id))
        return {d.id: d.name for d in found}
    found = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))
                               .order_by(User.display_name, User.id))
    return {user_id: name for user_id, name in found}


def hours(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (_aware(later) - _aware(earlier)).total_seconds() / 3600


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones); None when there is none."""
    return round(statistics.median(values), 2) if values else None


def p90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(0.9 * len(ordered)), 1) - 1], 2)


def elapsed(later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    """SQL: a sortable measure of ``later − earlier`` (days on SQLite, seconds on
    PostgreSQL); only its order is used, the hours themselves are taken in Python."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return func.julianday(later) - func.julianday(earlier)


def middle_ranks(n: ColumnElement) -> tuple[ColumnElement, ...]:
    """SQL: the 1-based ranks the median ((n+1) div 2, (n+2) div 2) and the nearest-rank p90
    (⌈0.9·n⌉ = (9n+9) div 10) read, in integer arithmetic on both databases."""
    return (n + 1) // 2, (n + 2) // 2, (n * 9 + 9) // 10


def durations(pairs: Select, keyed: bool, keep: set | None,
              digits: int = 2) -> tuple[dict, dict]:
    """Median and p90 hours per key and pooled over the keys read, from ``pairs``, a
    SELECT of ``(key, later, earlier)``; ``keyed``: rows without a key are left out (no
    department, no person), ``keep``: only these keys (None: all). Sorted and ranked in SQL
    (window functions), so only the middle rows of each group travel to Python instead of
    every duration.

    Returns ``({key: {"median": h, "p90": h, "n": count}}, {"median": …})`` with the
    values ``median()`` and ``p90()`` give over the same durations (rounded to
    ``digits``).
    """
    # Materialized: a correlated "earlier" (the last dispatch before a sign-for) is then
    # looked up once per row, not once per use (filter, sort, output).
    sub = pairs.cte("pairs").prefix_with("MATERIALIZED")
    key, later, earlier = sub.c.key, sub.c.later, sub.c.earlier
    length = elapsed(later, earlier)
    wanted = [later.is_not(None), earlier.is_not(None)]
    if keyed:
        wanted.append(key.is_not(None))
    if keep is not None:
        wanted.append(key.in_(keep or [-1]))
    ranked = select(
        key.label("key"), later.label("later"), earlier.label("earlier"),
        func.row_number().over(partition_by=key, order_by=length).label("i"),
        func.count().over(partition_by=key).label("n"),
        func.row_number().over(order_by=length).label("ti"),
        func.count().over().label("tn"),
    ).where(and_(*wanted)).subquery()
    i, n, ti, tn = ranked.c.i, ranked.c.n, ranked.c.ti, ranked.c.tn
    rows = db.session.execute(
        select(ranked.c.key, ranked.c.later, ranked.c.earlier, i, n, ti, tn)
        .where(or_(i.in_(middle_ranks(n)), ti.in_(middle_ranks(tn))))
    ).all()
    per_key: dict = {}
    pooled: dict = {}
    for row_key, row_later, row_earlier, row_i, row_n, row_ti, row_tn in rows:
        value = hours(row_later, row_earlier)
        per_key.setdefault(row_key, {})[row_i] = (value, row_n)
        pooled[row_ti] = (value, row_tn)
    return ({k: _ranked_stats(v, digits) for k, v in per_key.items()},
            _ranked_stats(pooled, digits))


def _ranked_stats(found: dict, digits: int = 2) -> dict:
    """``{rank: (hours, n)}`` holding the middle ranks → median and p90 as ``median()`` and
    ``p90()`` round them, and the count."""
    if not found:
        return {"median": None, "p90": None, "n": 0}
    n = next(iter(found.values()))[1]
    low, high, nine = ((n + 1) // 2, (n + 2) // 2, (9 * n + 9) // 10)
    middle = (found[low][0] + found[high][0]) / 2
    return {"median": round(middle, digits), "p90": round(found[nine][0], digits), "n": n}


def ratio(numerator: int | None, denominator: int | None) -> float | None:
    """A rate 0..1, None when there is nothing to count."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


def make_rows(by: str, slots: list[dict], columns: list[str], keep: set | None,
              always: Iterable = ()) -> list[Row]:
    """Rows of Cells from ``slots`` (one ``{key: {column: value}}`` per period), labelled
    and ordered; only keys in ``keep`` (None: all), plus ``always`` (shown when empty)."""
    keys = set(always)
    for slot in slots:
        keys.update(k for k in slot if k is not None)
    if keep is not None:
        keys &= keep
    names = labels(by, keys)
    rows = []
    for key, name in names.items():
        cells = {
            column: Cell(*(slot.get(key, {}).get(column) for slot in slots))
            for column in columns
        }
        rows.append(Row(key, name, cells))
    return rows
