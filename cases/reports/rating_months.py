"""Monthly counts of the ratings 三率 may count (``report_rating_months``).

A year's resolution and satisfaction rates counted ~280,000 index entries at a million
cases, twice (the year and the year before). Whole local months now read these rows (a
year: a few hundred), and only the days of a period that do not fill a month are counted
live from ``ratings``. The rows hold what the admins' rules choose from (status, level,
solved) so the rules are applied when read; a handler's own figures stay live (the rows
do not know who answered).

The rows follow ``ratings`` in the writer's transaction, whoever writes:

- the ORM (a fixture, the demo, a 差评 set aside): mapper events compare a rating's
  counted columns before the flush (attribute history; their ``set`` listeners ask for
  active history, so the old value is loaded even when it had expired) with after;
- ORM-enabled statements (``update(Rating)``: a rating given, defaulted by the sweep,
  superseded; ``delete``; a bulk ``insert`` with its rows as parameters): a session hook
  reads the rows the statement's WHERE chooses before it runs and the same rows after.

Statements sent past the session (a bench's ``INSERT … SELECT``, a migration) call
``rebuild_rating_months`` afterwards, as ``flask reports rebuild-totals`` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date
from typing import Any

from sqlalchemy import case, delete, event, func, inspect, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session

from cases.reports import upserts
from cases.reports.models import RatingMonth
from cases.reports.totals import local_day
from cases.satisfaction.models import Rating
from cases.satisfaction.vocabulary import RatingStatus, Solved

MONTHS = RatingMonth.__table__
MONTH_KEY = ("month", "department_id", "status", "level", "solved")  # the table's key
COUNTED = ("rated", "defaulted")
# The columns of ``ratings`` a row is keyed by, or that decide whether it counts.
COLUMNS = ("rated_at", "department_id", "status", "level", "solved", "set_aside")
Key = tuple[date, int, str, int, str]  # month, department (0: none), status, level, solved


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def key_of(values: Mapping[str, Any]) -> Key | None:
    """The row a rating counts in, from its columns (None: 三率 never counts it)."""
    status, level, rated = _value(values.get("status")), values.get("level"), values.get(
        "rated_at")
    if status not in COUNTED or level is None or rated is None or values.get("set_aside"):
        return None
    rated = rated if rated.tzinfo else rated.replace(tzinfo=UTC)
    return (local_day(rated).replace(day=1), values.get("department_id") or 0, status,
            int(level), _value(values.get("solved")) or "")


def _counted(rows: Iterable[Mapping[str, Any]], sign: int = 1) -> Counter[Key]:
    found: Counter[Key] = Counter()
    for values in rows:
        key = key_of(values)
        if key is not None:
            found[key] += sign
    return found


def add(connection: Connection, changes: Counter[Key]) -> None:
    """Add each row's amount: one upsert for all rows (atomic per row)."""
    params = [{"month": m, "department_id": d, "status": st, "level": lv, "solved": so,
               "n": amount}
              for (m, d, st, lv, so), amount in changes.items() if amount]
    if params:
        connection.execute(upserts.adding(connection, MONTHS, MONTH_KEY, "n"), params)


# --- following the ORM -----------------------------------------------------------------


def _now(rating: Rating) -> dict:
    return {name: getattr(rating, name) for name in COLUMNS}


def _before(rating: Rating) -> dict:
    state = inspect(rating)
    values = {}
    for name in COLUMNS:
        history = state.attrs[name].history
        values[name] = history.deleted[0] if history.deleted else getattr(rating, name)
    return values


def _given(_mapper, connection: Connection, rating: Rating) -> None:
    add(connection, _counted([_now(rating)]))


def _changed(_mapper, connection: Connection, rating: Rating) -> None:
    state = inspect(rating)
    if not any(state.attrs[name].history.has_changes() for name in COLUMNS):
        return
    change = _counted([_now(rating)])
    change.subtract(_counted([_before(rating)]))
    add(connection, change)


def _removed(_mapper, connection: Connection, rating: Rating) -> None:
    add(connection, _counted([_before(rating)], -1))


# --- following statements --------------------------------------------------------------


def _rows(connection: Connection, condition) -> dict[int, dict]:
    query = select(Rating.id, *(getattr(Rating, name) for name in COLUMNS)).where(condition)
    return {row[0]: dict(zip(COLUMNS, row[1:], strict=True))
            for row in connection.execute(query)}


def _around_statement(state: ORMExecuteState):
    """Recount the ratings an UPDATE, DELETE or INSERT of ``ratings`` writes."""
    if state.is_select or not (state.is_update or state.is_delete or state.is_insert):
        return None
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) != "ratings":
        return None
    connection = state.session.connection()
    if state.is_insert:
        given = state.parameters
        rows = given if isinstance(given, list) else [given] if given else []
        if not rows:
            raise RuntimeError("ratings inserted by a statement without parameter rows: "
                               "rating_months cannot count them")
        result = state.invoke_statement()
        add(connection, _counted(rows))
        return result
    where = state.statement.whereclause
    before = _rows(connection, where if where is not None else true())
    result = state.invoke_statement()
    change = _counted(before.values(), -1)
    if state.is_update and before:
        ids = list(before)
        for start in range(0, len(ids), 2000):
            change.update(_counted(_rows(connection, Rating.id.in_(ids[start:start + 2000]))
                                   .values()))
    add(connection, change)
    return result


def _keep_old_value(_target, value, _old, _initiator):
    return value


def follow_ratings() -> None:
    """Keep the monthly counts as ratings are written (once per process)."""
    for name in COLUMNS:
        attribute = getattr(Rating, name)
        if not event.contains(attribute, "set", _keep_old_value):
            event.listen(attribute, "set", _keep_old_value, active_history=True,
                         retval=True)
    for name, listener in (("after_insert", _given), ("after_update", _changed),
                           ("after_delete", _removed)):
        if not event.contains(Rating, name, listener):
            event.listen(Rating, name, listener)
    if not event.contains(Session, "do_orm_execute", _around_statement):
        event.listen(Session, "do_orm_execute", _around_statement)


# --- rebuilding ------------------------------------------------------------------------


def live_rating_months(connection: Connection) -> Counter[Key]:
    """Every row computed from ``ratings`` now (streamed)."""
    query = (select(*(getattr(Rating, name) for name in COLUMNS))
             .where(Rating.status.in_([RatingStatus.RATED, RatingStatus.DEFAULTED]),
                    Rating.level.is_not(None), Rating.set_aside.is_(False))
             .execution_options(yield_per=20000))
    return _counted(dict(zip(COLUMNS, row, strict=True)) for row in connection.execute(query))


def rebuild_rating_months(connection: Connection) -> int:
    """Recompute every row from ``ratings``; the number written (the caller commits)."""
    found = live_rating_months(connection)
    connection.execute(delete(RatingMonth))
    return upserts.write_counts(connection, MONTHS, MONTH_KEY, "n", found)


# --- reading ---------------------------------------------------------------------------


def month_counts(first: date, stop: date, statuses: list[str], solved: list[Solved],
                 satisfied_from: int):
    """``(department, answered, solved, rated, satisfied)`` of the months ``[first, stop)``
    (department 0: answered at intake), as ``figures_rates.rating_counts`` counts them."""
    m = RatingMonth

    def total(condition):
        return func.sum(case((condition, m.n), else_=0))

    return (select(m.department_id, total(m.solved != ""),
                   total(m.solved.in_([_value(s) for s in solved])), func.sum(m.n),
                   total(m.level >= satisfied_from))
            .where(m.month >= first, m.month < stop, m.status.in_(statuses))
            .group_by(m.department_id))
