"""Daily flows of the cases' own columns: what the workload's state figures add up from.

Per local day (``TIMEZONE``), grouping (``dim``: department, staff, category, district —
the case's department, assignee, category and district of today) and row key, how many
cases were filed, ended (any end: ``closed_at``), closed (办结), answered (with a reply
deadline) and answered on time, and whose reply deadline fell that day and was missed.
``ended_from`` is the same end counted under the day the case was filed (``since``), so
"filed in the period and still open at its end" is a sum too; ``ended_month`` is that per
local month of the end and of the filing (day and since: their firsts), which whole
months read instead (a year: ~1,000 rows, not ~26,000); ``net_month`` is filings minus
ends per local month (day: its first). From these the workload's received / open /
backlog / closed / overdue / on-time figures of any period are sums over its days (the
backlog: the whole months before the period's end, a row per key and month, and the days
of its last month), not reads of the cases.

The rows follow ``cases`` like the daily totals (``totals.py``): mapper events on ``Case``
compare what a case counted before the flush (attribute history) with what it counts
after, and upsert the difference (``INSERT … ON CONFLICT DO UPDATE``). ``rebuild_flows``
recomputes them from the cases (``flask reports rebuild-totals``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    event,
    func,
    inspect,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session

from cases.models import Case
from cases.reports import upserts
from cases.reports.models import DailyCaseFlow
from cases.reports.periods import Period, today, whole_months
from cases.reports.totals import local_day
from portal.changes import INSERT, recorded
from portal.db import db

FLOWS = DailyCaseFlow.__table__
DIMS = {"department": "department_id", "staff": "assignee_id", "category": "category_id",
        "district": "district_id"}
# The facts that add up day by day, also summed per local month (``<fact>_m``: day and
# since are the month's first): a period's whole months read those (a year: 12 rows a key).
MONTHLY = {fact: f"{fact}_m" for fact in ("filed", "closed", "answered", "on_time", "overdue")}
FACTS = ("filed", "ended", "ended_from", "ended_month", "closed", "answered", "on_time",
         "overdue", "net_month", *MONTHLY.values())
# The columns of ``Case`` the flows are computed from.
COLUMNS = ("created_at", "closed_at", "status", "replied_at", "reply_due_at",
           *DIMS.values())
Row = tuple[str, date, int, str, date]  # dim, day, key, fact, since
FLOW_KEY = ("dim", "day", "key", "fact", "since")  # the table's unique key


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def facts_of(values: dict) -> Counter[Row]:
    """The rows one case counts in, from its columns (``COLUMNS``)."""
    created = values["created_at"]
    if created is None:
        return Counter()
    filed = local_day(_aware(created))
    counted = [("filed", filed, filed)]
    net = {filed.replace(day=1): 1}  # the backlog's change per month (``net_month``)
    closed, replied, due = (values[name] and _aware(values[name])
                            for name in ("closed_at", "replied_at", "reply_due_at"))
    if closed is not None:
        ended = max(filed, local_day(closed))  # ends no earlier than it was filed
        counted += [("ended", ended, ended), ("ended_from", ended, filed),
                    ("ended_month", ended.replace(day=1), filed.replace(day=1))]
        net[ended.replace(day=1)] = net.get(ended.replace(day=1), 0) - 1
        if getattr(values["status"], "value", values["status"]) == "closed":
            counted.append(("closed", local_day(closed), local_day(closed)))
    if replied is not None and due is not None:
        answered = local_day(replied)
        counted.append(("answered", answered, answered))
        if replied <= due:
            counted.append(("on_time", answered, answered))
    if due is not None and (replied is None or replied > due) and (
            closed is None or closed > due):
        counted.append(("overdue", local_day(due), local_day(due)))
    counted += [(MONTHLY[fact], day.replace(day=1), day.replace(day=1))
                for fact, day, _since in counted if fact in MONTHLY]
    found: Counter[Row] = Counter()
    for dim, column in DIMS.items():
        key = values[column]
        if key is None:
            continue
        for fact, day, since in counted:
            found[(dim, day, key, fact, since)] += 1
        for month, change in net.items():
            if change:
                found[(dim, month, key, "net_month", month)] += change
    return found


def add(connection: Connection, changes: Counter[Row]) -> None:
    """Add each row's amount: one upsert executed for all rows (atomic per row)."""
    params = [{"dim": dim, "day": day, "key": key, "fact": fact, "since": since, "n": amount}
              for (dim, day, key, fact, since), amount in changes.items() if amount]
    if not params:
        return
    connection.execute(upserts.adding(connection, FLOWS, FLOW_KEY, "n"), params)


# --- following the cases table ---------------------------------------------------------


def _now(case: Case) -> dict:
    return {name: getattr(case, name) for name in COLUMNS}


def _before(case: Case) -> dict:
    """The columns as they were before this flush (attribute history).

    A column given its first value after the case was inserted in this transaction (the
    department and deadlines of a case routed as it is filed) holds no old value in its
    history (it was never loaded): it was NULL. Taking the new value for the old one
    counted such a case in no department's flows (filed, open, overdue)."""
    state = inspect(case)
    session = object_session(case)
    inserted = session is not None and recorded(session).get(("case", case.id)) == INSERT
    values = {}
    for name in COLUMNS:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
        elif inserted and history.added:
            values[name] = None
        else:
            values[name] = getattr(case, name)
    return values


# The mapper events' rows wait in the session until the flush has written every case,
# then go out as one upsert: with the timeline's (``step_flows`` takes them into its own
# after the flush), else on their own once the flush is done. A filing that routes the
# case writes its flows in one statement, not one per event and one for the timeline.
_PENDING = "report_flows.pending"  # session.info: Counter of this flush's rows


def _queue(connection: Connection, case: Case, change: Counter[Row]) -> None:
    session = object_session(case)
    if session is None:  # not flushed by a session (never the case today): write now
        add(connection, change)
        return
    session.info.setdefault(_PENDING, Counter()).update(change)


def take_pending(session: Session) -> Counter[Row]:
    """The rows this flush's mapper events counted and did not write yet (now taken)."""
    return session.info.pop(_PENDING, None) or Counter()


def _filed(_mapper, connection: Connection, case: Case) -> None:
    _queue(connection, case, facts_of(_now(case)))


def _changed(_mapper, connection: Connection, case: Case) -> None:
    state = inspect(case)
    if not any(state.attrs[name].history.has_changes() for name in COLUMNS):
        return
    change = facts_of(_now(case))
    change.subtract(facts_of(_before(case)))
    _queue(connection, case, change)


def _removed(_mapper, connection: Connection, case: Case) -> None:
    gone = facts_of(_before(case))
    _queue(connection, case, Counter({row: -n for row, n in gone.items()}))


def _flush_started(session: Session, _context, _instances) -> None:
    session.info.pop(_PENDING, None)  # a failed flush's rows were rolled back with it


def _flush_done(session: Session, _context) -> None:
    add(session.connection(), take_pending(session))


def follow_cases() -> None:
    """Keep the flows as ``cases`` changes (once per process; the factory calls it)."""
    for name, listener in (("after_insert", _filed), ("after_update", _changed),
                           ("after_delete", _removed)):
        if not event.contains(Case, name, listener):
            event.listen(Case, name, listener)
    for name, listener in (("before_flush", _flush_started),
                           ("after_flush_postexec", _flush_done)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _of_cases(ids: list[int], durations: list | None = None) -> Counter[Row]:
    """Every row (own columns and timeline) of these cases, read from the database (and
    their kept durations, appended to ``durations``)."""
    from cases.reports.step_flows import facts_of_cases

    conn = db.session.connection()
    found: Counter[Row] = Counter()
    for start in range(0, len(ids), 2000):
        for row in conn.execute(select(*(getattr(Case, name) for name in COLUMNS))
                                .where(Case.id.in_(ids[start:start + 2000]))):
            found.update(facts_of(dict(zip(COLUMNS, row, strict=True))))
    found.update(facts_of_cases(conn, ids, durations))
    return found


def _keep_durations(ids: list[int], rows: list) -> None:
    from cases.reports.timings import replace

    replace(db.session.connection(), ids, rows)


def count_cases(case_ids: Iterable[int], sign: int = 1) -> None:
    """Count (``sign`` 1) cases written by Core statements, which neither mapper nor
    session events hear (bulk imports), or uncount them (-1) before they are removed.
    The caller commits."""
    from cases.reports.step_flows import forget

    forget(db.session())  # Core statements wrote these cases: read them anew next flush
    ids, kept = sorted(set(case_ids)), []
    found = _of_cases(ids, kept)
    add(db.session.connection(), Counter({k: sign * n for k, n in found.items()}))
    _keep_durations(ids, kept if sign > 0 else [])


@contextmanager
def recounted(case_ids: Iterable[int]) -> Iterator[None]:
    """Around a Core UPDATE of cases (a conditional claim): their rows before it are
    taken back and their rows after it counted."""
    from cases.reports.step_flows import forget

    ids = sorted(set(case_ids))
    before = _of_cases(ids)
    yield
    forget(db.session())  # what the session's flushes knew of these cases is stale now
    kept: list = []
    after = _of_cases(ids, kept)
    after.subtract(before)
    add(db.session.connection(), after)
    _keep_durations(ids, kept)


# --- rebuilding ------------------------------------------------------------------------


def live_flows(connection: Connection | None = None) -> Counter[Row]:
    """Every row computed from the cases now (streamed)."""
    conn = connection or db.session.connection()
    found: Counter[Row] = Counter()
    result = conn.execute(select(*(getattr(Case, name) for name in COLUMNS))
                          .execution_options(yield_per=20000))
    for row in result:
        found.update(facts_of(dict(zip(COLUMNS, row, strict=True))))
    return found


def rebuild_flows(connection: Connection | None = None) -> int:
    """Recompute every flow from the cases and their timelines (``step_flows``), the kept
    durations and their histograms; returns the number of flow rows written. The caller
    commits (the migration that adds the table passes its connection)."""
    from cases.reports import duration_counts
    from cases.reports.models import ReportDuration
    from cases.reports.step_flows import live_step_flows
    from cases.reports.timings import DURATIONS

    conn = connection or db.session.connection()
    found = live_flows(conn)
    kept: list = []
    found.update(live_step_flows(conn, kept))
    conn.execute(delete(ReportDuration))
    for start in range(0, len(kept), 5000):
        conn.execute(DURATIONS.insert(), kept[start:start + 5000])
    duration_counts.rebuild(conn, kept)
    conn.execute(delete(DailyCaseFlow))
    return upserts.write_counts(conn, FLOWS, FLOW_KEY, "n", found)


def fill_net_months(connection: Connection) -> int:
    """The backlog's monthly rows (``net_month``) from the daily ``filed`` and ``ended``
    rows already kept (the migration that adds them: no read of the cases); returns the
    number of rows written."""
    f = DailyCaseFlow
    found: Counter[Row] = Counter()
    for dim, day, key, fact, n in connection.execute(
            select(f.dim, f.day, f.key, f.fact, f.n).where(f.fact.in_(("filed", "ended")))):
        month = day.replace(day=1)
        found[(dim, month, key, "net_month", month)] += n if fact == "filed" else -n
    return _replace_fact(connection, "net_month", found)


def fill_ended_months(connection: Connection) -> int:
    """The ends per month of the end and of the filing (``ended_month``) from the daily
    ``ended_from`` rows already kept (the migration that adds them: no read of the cases);
    returns the number of rows written."""
    f = DailyCaseFlow
    found: Counter[Row] = Counter()
    for dim, day, key, since, n in connection.execute(
            select(f.dim, f.day, f.key, f.since, f.n).where(f.fact == "ended_from")):
        found[(dim, day.replace(day=1), key, "ended_month", since.replace(day=1))] += n
    return _replace_fact(connection, "ended_month", found)


def fill_fact_months(connection: Connection) -> int:
    """The ``MONTHLY`` facts' monthly rows from their daily rows already kept (the
    migration that adds them: no read of the cases); returns the number of rows written."""
    f = DailyCaseFlow
    found: Counter[Row] = Counter()
    for dim, day, key, fact, n in connection.execute(
            select(f.dim, f.day, f.key, f.fact, f.n).where(f.fact.in_(list(MONTHLY)))):
        found[(dim, day.replace(day=1), key, MONTHLY[fact], day.replace(day=1))] += n
    connection.execute(delete(DailyCaseFlow).where(f.fact.in_(list(MONTHLY.values()))))
    return upserts.write_counts(connection, FLOWS, FLOW_KEY, "n", found)


def _replace_fact(connection: Connection, fact: str, found: Counter[Row]) -> int:
    """Replace every row of ``fact`` with the non-zero counts ``found``; their number."""
    connection.execute(delete(DailyCaseFlow).where(DailyCaseFlow.fact == fact))
    return upserts.write_counts(connection, FLOWS, FLOW_KEY, "n", found)


# --- reading ---------------------------------------------------------------------------


def _sum(condition) -> object:
    return func.coalesce(func.sum(case((condition, DailyCaseFlow.n), else_=0)), 0)


def fact_days(fact: str, first: date, stop: date,
              monthly: str | None = None) -> ColumnElement[bool]:
    """``fact``'s rows of the days ``[first, stop)``: whole months from their monthly rows
    (the fact ``monthly``; None: days only), the days around them from the daily ones."""
    f = DailyCaseFlow
    months = whole_months(Period("custom", first, stop - timedelta(days=1))) if (
        monthly and first < stop) else None
    if months is None:
        return and_(f.fact == fact, f.day >= first, f.day < stop)
    spans = [and_(f.fact == monthly, f.day >= months[0], f.day < months[1])]
    spans += [and_(f.fact == fact, f.day >= a, f.day < b)
              for a, b in ((first, months[0]), (months[1], stop)) if a < b]
    return or_(*spans)


def case_counts(by: str, period: Period) -> Select:
    """``(key, filed, open, backlog, closed, overdue, answered, on_time)`` of ``period`` by
    ``by`` from the flows (one statement, reads of the key's index): sums over the
    period's days (whole months from their monthly rows), and the backlog as the filings
    minus the ends before its end: whole months' net change (``net_month``) and the days
    of its last month. Reply deadlines of today are left to the caller (only those
    already passed count)."""
    f = DailyCaseFlow
    first, stop = period.first, period.last + timedelta(days=1)
    due_stop = min(stop, today())
    zero = literal(0)
    # Whole months (a month, a quarter, a year) read the ends per month of end and filing.
    ends = "ended_month" if first.day == 1 and stop.day == 1 else "ended_from"
    spans = {fact: fact_days(fact, first, due_stop if fact == "overdue" else stop,
                             MONTHLY[fact])
             for fact in ("filed", "closed", "overdue", "answered", "on_time")}
    counts = (
        select(f.key.label("key"), _sum(spans["filed"]).label("filed"),
               (_sum(spans["filed"])
                - _sum(and_(f.fact == ends, f.day >= first, f.day < stop,
                            f.since >= first))).label("open"),
               zero.label("backlog"),
               _sum(spans["closed"]).label("closed"),
               _sum(spans["overdue"]).label("overdue"),
               _sum(spans["answered"]).label("answered"),
               _sum(spans["on_time"]).label("on_time"))
        .where(f.dim == by, or_(and_(f.fact == ends, f.day >= first, f.day < stop),
                                *spans.values()))
        .group_by(f.key)
    )
    month = stop.replace(day=1)  # whole months before it: one row per key and month
    backlog = (
        select(f.key, zero, zero, _sum(f.fact.in_(("net_month", "filed")))
               - _sum(f.fact == "ended"), zero, zero, zero, zero)
        .where(f.dim == by, or_(and_(f.fact == "net_month", f.day < month),
                                and_(f.fact.in_(("filed", "ended")), f.day >= month,
                                     f.day < stop)))
        .group_by(f.key)
    )
    both = union_all(counts, backlog).subquery()
    return (select(both.c.key, *(func.sum(column) for column in list(both.c)[1:]))
            .group_by(both.c.key))
