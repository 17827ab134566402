"""Workload per department, category, district or staff member (docs/REPORTS.md,
"Definitions: workload").

Per period three GROUP BY queries: the cases' own columns (filed, open, backlog, closed,
overdue, answered on time), the timeline's steps (dispatched to, signed for, answered,
sent back, returned, transferred away, extensions asked), and the durations to sign for and
to close (from the kept durations' histograms, ``duration_counts``; computed live, ranked in
SQL by window functions: only the middle rows reach Python).
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import find_tables

from cases.models import Case, CaseEvent, CaseStatus
from cases.reports import duration_counts, flows, step_flows
from cases.reports.figures_common import (
    DISPATCHES,
    GROUP_LABELS,
    allowed_keys,
    case_group,
    dispatched_department,
    durations,
    make_rows,
    ratio,
    rows_scope,
    three_periods,
)
from cases.reports.periods import Period, today
from cases.reports.scope import ReportReach, report_reach
from cases.reports.tables import Cell, Column, Row, Table
from portal.db import db, utcnow
from portal.models import Department, User

WORKLOAD_COLUMNS = [
    Column("received", _l("Received"), "count", drill="received"),
    Column("open", _l("Still open"), "count", drill="open"),
    Column("closed", _l("Closed"), "count", drill="closed"),
    Column("overdue", _l("Overdue"), "count", drill="overdue"),
    Column("backlog", _l("Backlog"), "count", drill="backlog"),
    Column("sign_median_hours", _l("Median hours to sign for"), "hours", drill="signed"),
    Column("sign_p90_hours", _l("90th percentile hours to sign for"), "hours", drill="signed"),
    Column("close_median_hours", _l("Median hours to close"), "hours", drill="closed"),
    Column("close_p90_hours", _l("90th percentile hours to close"), "hours", drill="closed"),
    Column("on_time_rate", _l("On-time answers"), "rate", drill="answered",
           definition=_l("Answers given by the reply deadline, among the answers given in "
                         "the period.")),
    Column("redo_rate", _l("Send-back rate"), "rate", drill="redo",
           definition=_l("Answers sent back to redo in the period, per answer given in "
                         "the period.")),
    Column("return_rate", _l("Return rate"), "rate", drill="return",
           definition=_l("Cases returned to the service centre in the period, per case "
                         "received.")),
    Column("transfers", _l("Transferred away"), "count", drill="transfers"),
    Column("extensions", _l("Extensions asked"), "count", drill="extensions"),
]
NO_DURATIONS = {"median": None, "p90": None}
COUNTS = ("received", "open", "closed", "overdue", "backlog", "transfers", "extensions",
          "filed", "answered", "on_time", "replied", "redone", "returned", "signed")


def workload(period: Period, viewer: User, by: str = "department") -> Table:
    """The workload table for ``period`` grouped ``by`` department, category, district or
    staff member, with the previous period and the same period a year before."""
    case_group(by)  # refuses an unknown grouping
    keep = allowed_keys(by, viewer)
    slots, totals, done = [], [], {}
    for each in three_periods(period):
        # A year's previous period is the year before: computed once.
        bounds = each.bounds()
        if bounds not in done:
            done[bounds] = _one_period(each, by, viewer, keep)
        per_key, total = done[bounds]
        slots.append(per_key)
        totals.append(total)
    always = ()
    if by == "department":
        always = keep if keep is not None else db.session.scalars(
            select(Department.id).where(Department.is_active.is_(True)))
    keys = [c.key for c in WORKLOAD_COLUMNS]
    rows = make_rows(by, slots, keys, keep, always)
    total = Row(None, str(_l("Total")),
                {k: Cell(*(t.get(k) for t in totals)) for k in keys})
    return Table(
        key=f"workload-{by}",
        title=_l("Workload by %(group)s", group=GROUP_LABELS[by]),
        period=period,
        group=by,
        columns=list(WORKLOAD_COLUMNS),
        rows=rows,
        total=total,
        filters={"group": by},
        note=_l("Open and backlog count each case under its department, category, district "
                "and assignee of today; the timeline's steps count where they happened."),
    )


def _one_period(period: Period, by: str, viewer: User, keep: set | None):
    start, end = period.bounds()
    raw: dict = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for key, *values in _case_rows(period, by, viewer):
        raw[key].update(zip(("filed", "open", "backlog", "closed", "overdue", "answered",
                             "on_time"), (int(v or 0) for v in values), strict=True))
    if flows_apply(by, viewer):  # the timeline's daily flows hold the steps
        found = db.session.execute(step_flows.step_counts(by, period, STEP_FACTS))
    else:
        found = db.session.execute(_step_counts(by, viewer, start, end))
    for key, fact, count in found:
        if key is not None:
            raw[key][fact] += int(count or 0)
    keyed = by in ("department", "staff")  # not (yet) with a department or a person
    if flows_apply(by, viewer):  # the kept durations' histograms (``duration_counts``)
        ranked = duration_counts.ranked(period, by, keyed, keep)
        signs, signs_pooled = ranked["sign"]
        closes, closes_pooled = ranked["close"]
    else:
        signs, signs_pooled = durations(_sign_times(by, viewer, start, end), keyed, keep)
        closes, closes_pooled = durations(_close_times(by, viewer, start, end), keyed, keep)
    keys = set(raw) | set(signs) | set(closes)
    if keyed:
        keys.discard(None)
    if keep is not None:
        keys &= keep
    per_key = {k: _figures(raw.get(k), signs.get(k), closes.get(k)) for k in keys}
    pooled = dict.fromkeys(COUNTS, 0)
    for k in keys:
        for name, value in raw.get(k, {}).items():
            pooled[name] += value
    total = _figures(pooled, signs_pooled, closes_pooled)
    return per_key, total


def state_total(period: Period, viewer: User, by: str = "department") -> dict:
    """The total row's backlog and on-time rate as ``workload`` counts them, read off the
    cases alone (no steps, no durations): the monthly report's handling part."""
    keep = allowed_keys(by, viewer)
    pooled = dict.fromkeys(("backlog", "answered", "on_time"), 0)
    for key, *values in _case_rows(period, by, viewer):
        if (key is None and by in ("department", "staff")) or (
                keep is not None and key not in keep):
            continue
        _filed, _open, backlog, _closed, _overdue, answered, on_time = values
        pooled["backlog"] += int(backlog or 0)
        pooled["answered"] += int(answered or 0)
        pooled["on_time"] += int(on_time or 0)
    return {"backlog": pooled["backlog"],
            "on_time_rate": ratio(pooled["on_time"], pooled["answered"])}


def _figures(raw: dict | None, signs: dict | None, closes: dict | None) -> dict:
    raw = raw or dict.fromkeys(COUNTS, 0)
    signs = signs or NO_DURATIONS
    closes = closes or NO_DURATIONS
    return {
        "received": raw["received"] + raw["filed"],
        "open": raw["open"],
        "closed": raw["closed"],
        "overdue": raw["overdue"],
        "backlog": raw["backlog"],
        "sign_median_hours": signs["median"],
        "sign_p90_hours": signs["p90"],
        "close_median_hours": closes["median"],
        "close_p90_hours": closes["p90"],
        "on_time_rate": ratio(raw["on_time"], raw["answered"]),
        "redo_rate": ratio(raw["redone"], raw["replied"]),
        "return_rate": ratio(raw["returned"], raw["received"] + raw["filed"]),
        "transfers": raw["transfers"],
        "extensions": raw["extensions"],
    }


# --- the cases' own columns ----------------------------------------------------------


def open_at(end) -> ColumnElement[bool]:
    return or_(Case.closed_at.is_(None), Case.closed_at >= end)


def overdue_in(start, end) -> ColumnElement[bool]:
    """The reply deadline fell in [start, end) (and has passed) with no answer by then."""
    due_end = min(end, utcnow())
    return and_(
        Case.reply_due_at >= start, Case.reply_due_at < due_end,
        or_(Case.replied_at.is_(None), Case.replied_at > Case.reply_due_at),
        or_(Case.closed_at.is_(None), Case.closed_at > Case.reply_due_at),
    )


def closed_in(start, end) -> ColumnElement[bool]:
    return and_(Case.status == CaseStatus.CLOSED, Case.closed_at >= start, Case.closed_at < end)


def answered_in(start, end) -> ColumnElement[bool]:
    return and_(Case.replied_at >= start, Case.replied_at < end, Case.reply_due_at.is_not(None))


def _count(condition) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


def flows_apply(by: str, viewer: User) -> bool:
    """Whether the rows' scope is every case (then the daily flows hold the state
    figures): the city's readers, and a department head by department or staff."""
    reach = report_reach(viewer)
    return reach is ReportReach.CITY or (
        reach is ReportReach.DEPARTMENT and by in ("department", "staff"))


def _case_rows(period: Period, by: str, viewer: User) -> list[tuple]:
    """``(key, filed, open, backlog, closed, overdue, answered, on_time)`` per key: from
    the daily flows when they apply (the deadlines of today read live), else live."""
    start, end = period.bounds()
    if not flows_apply(by, viewer):
        return [tuple(row) for row in db.session.execute(_case_counts(by, viewer, start, end))]
    rows: dict = {}
    for key, filed, *values in db.session.execute(flows.case_counts(by, period)):
        rows[key] = [int(filed or 0) if by in ("category", "district") else 0,
                     *(int(v or 0) for v in values)]
    today_start = Period.containing("day", today()).bounds()[0]
    if today_start < end:  # today's deadlines: only those already passed count
        key = case_group(by)
        for found, count in db.session.execute(
                select(key, func.count()).where(overdue_in(max(start, today_start), end))
                .group_by(key)):
            if found is not None:
                rows.setdefault(found, [0] * 7)[4] += count
    return [(key, *values) for key, values in rows.items()]


def _case_counts(by: str, viewer: User, start, end) -> Select:
    key = case_group(by)
    filed = and_(Case.created_at >= start, Case.created_at < end)
    if by in ("department", "staff"):  # received there comes from the timeline
        filed_count = literal(0)
    else:
        filed_count = _count(filed)
    answered = answered_in(start, end)
    return (
        select(
            key, filed_count, _count(and_(filed, open_at(end))), _count(open_at(end)),
            _count(closed_in(start, end)), _count(overdue_in(start, end)), _count(answered),
            _count(and_(answered, Case.replied_at <= Case.reply_due_at)),
        )
        .where(Case.created_at < end, not_ended_before(start), rows_scope(by, viewer))
        .group_by(key)
    )


def not_ended_before(start) -> ColumnElement[bool]:
    """The case was not ended before ``start`` (still open, or ended since). On SQLite as
    two ranges of the ``closed_at`` index (an OR makes it read every case); PostgreSQL
    plans the OR well (a bitmap OR or a parallel scan) and the IN list badly."""
    if db.engine.dialect.name == "postgresql":
        return or_(Case.closed_at.is_(None), Case.closed_at >= start)
    return Case.id.in_(union_all(select(Case.id).where(Case.closed_at.is_(None)),
                                 select(Case.id).where(Case.closed_at >= start)))


def _close_times(by: str, viewer: User, start, end) -> Select:
    return select(case_group(by).label("key"), Case.closed_at.label("later"),
                  Case.created_at.label("earlier")).where(
        closed_in(start, end), rows_scope(by, viewer))


# --- the timeline's steps ------------------------------------------------------------


def step_key(by: str, fact: str) -> ColumnElement:
    """Whose row a step of the timeline counts in (docs/REPORTS.md)."""
    if by in ("category", "district"):
        return case_group(by)
    staff = by == "staff"
    if fact == "received":
        return CaseEvent.actor_id if staff else dispatched_department()
    if fact == "redone":
        return case_group(by)
    if fact == "transfers":
        return _previous_holder(staff)
    return CaseEvent.actor_id if staff else User.department_id


STEP_FACTS = {  # fact: the timeline's action it counts
    "received": DISPATCHES,
    "signed": ("sign_for",),
    "replied": ("reply",),
    "returned": ("return",),
    "extensions": ("extension",),
    "redone": ("redo",),
    "transfers": ("transfer",),
}


def step_select(by: str, fact: str, viewer: User, start, end) -> Select:
    """``(key, fact, case_id)`` of the steps of one kind in [start, end)."""
    actions = STEP_FACTS[fact]
    if by == "staff" and fact == "received":
        actions = ("sign_for",)  # a staff member receives a case by signing for it
    if by in ("category", "district") and fact == "received":
        actions = ()  # received there means filed (the cases' own column)
    return timeline_select(
        by, viewer,
        step_key(by, fact).label("key"), literal(fact).label("fact"),
        CaseEvent.case_id.label("case_id"),
    ).where(CaseEvent.action.in_(actions), CaseEvent.created_at >= start,
            CaseEvent.created_at < end)


def timeline_select(by: str, viewer: User, *columns: ColumnElement) -> Select:
    """SELECT ``columns`` from the timeline within the rows' scope, joined to ``cases``
    and ``users`` only when a column or the scope reads them: on PostgreSQL that join
    was a hash join to a full read of ``cases`` for every kind of step."""
    scope = rows_scope(by, viewer)
    read = set()
    for expression in (*columns, scope):
        read.update(find_tables(expression, check_columns=True))
    query = select(*columns).select_from(CaseEvent)
    if Case.__table__ in read:
        query = query.join(Case, Case.id == CaseEvent.case_id)
    if User.__table__ in read:
        query = query.outerjoin(User, User.id == CaseEvent.actor_id)
    return query.where(scope)


def _step_counts(by: str, viewer: User, start, end) -> Select:
    steps = union_all(*(step_select(by, fact, viewer, start, end) for fact in STEP_FACTS))
    sub = steps.subquery()
    return (select(sub.c.key, sub.c.fact, func.count(sub.c.case_id.distinct()))
            .group_by(sub.c.key, sub.c.fact))


def _previous_holder(staff: bool) -> ColumnElement:
    """The department (or the staff member who signed for it) a transferred case left."""
    earlier = aliased(CaseEvent)
    if staff:
        what, actions = earlier.actor_id, ("sign_for",)
    else:
        what, actions = dispatched_department(earlier), DISPATCHES
    return (
        select(what)
        .where(earlier.case_id == CaseEvent.case_id, earlier.action.in_(actions),
               earlier.id < CaseEvent.id)
        .order_by(earlier.id.desc())
        .limit(1)
        .correlate(CaseEvent)
        .scalar_subquery()
    )


def last_dispatch_before() -> ColumnElement:
    """When the case was last handed to a department before this step."""
    earlier = aliased(CaseEvent)
    return (
        select(func.max(earlier.created_at))
        .where(earlier.case_id == CaseEvent.case_id, earlier.action.in_(DISPATCHES),
               earlier.id < CaseEvent.id)
        .correlate(CaseEvent)
        .scalar_subquery()
    )


def _sign_times(by: str, viewer: User, start, end) -> Select:
    return timeline_select(
        by, viewer,
        step_key(by, "signed").label("key"), CaseEvent.created_at.label("later"),
        last_dispatch_before().label("earlier"),
    ).where(CaseEvent.action == "sign_for", CaseEvent.created_at >= start,
            CaseEvent.created_at < end)
