"""三率 (response, resolution, satisfaction), the composite score and the monthly ranking
(docs/REPORTS.md, "Definitions: 三率 and the ranking").

Per period two GROUP BY queries: dispatches to each department with whether that
department signed for the case by its sign-for deadline, and the counted ratings of each
department's answers. The rules (levels, defaulted ratings, weights) are the admins'
``ReportSettings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select, true
from sqlalchemy.orm import aliased

from cases.models import Case, CaseEvent
from cases.reports import rating_months, step_flows
from cases.reports.figures_common import (
    DISPATCHES,
    dispatched_department,
    ratio,
    three_periods,
)
from cases.reports.models import ReportSettings
from cases.reports.periods import Period, whole_months
from cases.reports.scope import ReportReach, case_scope, report_reach
from cases.reports.settings import report_settings, weights
from cases.reports.tables import Cell, Column, Row, Table
from cases.satisfaction.models import Rating
from cases.satisfaction.vocabulary import RatingStatus, Solved
from portal.db import db
from portal.models import Department, User

RATES = ("response", "resolution", "satisfaction")
RATE_LABELS = {
    "response": _l("Response rate"),
    "resolution": _l("Resolution rate"),
    "satisfaction": _l("Satisfaction rate"),
}


@dataclass(frozen=True)
class Loss:
    """Points a department lost on one rate: weight × (1 − rate)."""

    rate: str  # "response" | "resolution" | "satisfaction"
    label: str
    value: float  # the rate, 0..1
    weight: int
    points: float

    def text(self) -> str:
        """``满意率 75% → −8.75``."""
        return f"{self.label} {_percent(self.value)} → −{self.points:g}"


@dataclass
class Ranking:
    table: Table  # rows in rank order (a department head: their row only)
    red_list: list[Row] = field(default_factory=list)  # 红榜: the top five
    black_list: list[Row] = field(default_factory=list)  # 黑榜: the bottom five, worst first
    losses: dict = field(default_factory=dict)  # department id → [Loss] (largest first)
    ranked: int = 0  # how many departments were ranked
    own_rank: int | None = None  # a department head's place


def _percent(value: float) -> str:
    return f"{round(value * 100, 1):g}%"


def definitions(settings: ReportSettings) -> dict[str, str]:
    solved = (_l("solved or partly solved") if settings.partly_counts_as_solved
              else _l("solved"))
    defaulted = (_l("defaulted ratings count") if settings.count_defaulted
                 else _l("defaulted ratings do not count"))
    return {
        "response": _l("Cases dispatched to the department in the period that it signed for "
                       "by the sign-for deadline, among the cases dispatched to it."),
        "resolution": _l("Ratings given in the period that say %(solved)s, among the "
                         "counted ratings that answer whether it was solved (%(defaulted)s; "
                         "ratings set aside on appeal never count).",
                         solved=solved, defaulted=defaulted),
        "satisfaction": _l("Ratings given in the period at level %(level)s or better, among "
                           "the counted ratings (%(defaulted)s; ratings set aside on appeal "
                           "never count).", level=settings.satisfied_from_level,
                           defaulted=defaulted),
        "composite": _l("%(r)s × response rate + %(s)s × resolution rate + %(t)s × "
                        "satisfaction rate; a rate with nothing to count loses no points.",
                        r=settings.weight_response, s=settings.weight_resolution,
                        t=settings.weight_satisfaction),
    }


def rate_columns(settings: ReportSettings) -> list[Column]:
    text = definitions(settings)
    drills = {"response": "dispatched", "resolution": "rated", "satisfaction": "rated"}
    columns = []
    for rate in RATES:
        columns += [
            Column(rate, RATE_LABELS[rate], "rate", definition=text[rate], drill=drills[rate]),
            Column(f"{rate}_n", _l("counted in"), "count", drill=drills[rate]),
            Column(f"{rate}_d", _l("out of"), "count", drill=drills[rate]),
        ]
    columns.append(Column("composite", _l("Composite score"), "score",
                          definition=text["composite"]))
    return columns


def three_rates(period: Period, viewer: User) -> Table:
    """三率 and the composite per department, against the previous period and a year
    before; a department head reads their own row, a handler their own work."""
    return _three_rates(period, viewer, report_settings(), {})


def three_rates_and_ranking(period: Period, viewer: User) -> tuple[Table, Ranking]:
    """Both, as the dashboard shows them, each period's rates computed once for the two."""
    settings, computed = report_settings(), {}
    return (_three_rates(period, viewer, settings, computed),
            _ranking(period, viewer, settings, computed))


def _rates_once(period: Period, settings: ReportSettings, handler: User | None,
                computed: dict) -> dict:
    """``_rates_of``, remembered in ``computed`` by bounds and reader (a year's previous
    period is also its year before; the dashboard asks for the city's rates twice)."""
    key = (period.bounds(), handler.id if handler is not None else None)
    if key not in computed:
        computed[key] = _rates_of(period, settings, handler)
    return computed[key]


def _three_rates(period: Period, viewer: User, settings: ReportSettings,
                 computed: dict) -> Table:
    reach = report_reach(viewer)
    handler = viewer if reach is ReportReach.SELF else None
    slots = ([_rates_once(each, settings, handler, computed) for each in three_periods(period)]
             if reach is not ReportReach.NONE else [{}, {}, {}])
    keep = None if reach is ReportReach.CITY else (
        set() if reach is ReportReach.NONE else {viewer.department_id})
    return _table(period, settings, slots, keep, "rates", _l("三率 and the composite score"))


def _table(period: Period, settings: ReportSettings, slots: list[dict], keep: set | None,
           key: str, title) -> Table:
    columns = rate_columns(settings)
    names = _departments(keep)
    rows = [Row(dep_id, name, {c.key: Cell(*(s.get(dep_id, {}).get(c.key) for s in slots))
                               for c in columns})
            for dep_id, name in names.items()]
    totals = [_with_rates(_sum(s, names), settings) for s in slots]
    total = Row(None, str(_l("Total")),
                {c.key: Cell(*(t.get(c.key) for t in totals)) for c in columns})
    return Table(key=key, title=title, period=period, group="department", columns=columns,
                 rows=rows, total=total if keep is None else None,
                 filters={"group": "department"})


def _departments(keep: set | None) -> dict[int, str]:
    query = select(Department).order_by(Department.sort_key, Department.id)
    if keep is None:
        query = query.where(Department.is_active.is_(True))
    else:
        query = query.where(Department.id.in_(keep or [0]))
    return {d.id: d.name for d in db.session.scalars(query)}


def _sum(slot: dict, names: dict) -> dict:
    total = {f"{rate}_{part}": 0 for rate in RATES for part in "nd"}
    for dep_id in names:
        for name in total:
            total[name] += slot.get(dep_id, {}).get(name) or 0
    return total


def _rates_of(period: Period, settings: ReportSettings, handler: User | None) -> dict:
    """``{department id: {response_n, response_d, ..., response, ..., composite}}``; over
    the whole city, or one handler's own work."""
    found: dict = {}
    for dep_id, n, d in response_rows(period, handler):
        found.setdefault(dep_id, {}).update(response_n=int(n or 0), response_d=int(d or 0))
    for dep_id, d_res, n_res, d_sat, n_sat in rating_rows(period, settings, handler):
        found.setdefault(dep_id, {}).update(
            resolution_n=int(n_res or 0), resolution_d=int(d_res or 0),
            satisfaction_n=int(n_sat or 0), satisfaction_d=int(d_sat or 0))
    return {dep_id: _with_rates(v, settings) for dep_id, v in found.items()
            if dep_id is not None}


def _with_rates(counts: dict, settings: ReportSettings) -> dict:
    out = {f"{rate}_{part}": counts.get(f"{rate}_{part}", 0) for rate in RATES for part in "nd"}
    for rate in RATES:
        out[rate] = ratio(out[f"{rate}_n"], out[f"{rate}_d"])
    rates = [out[rate] for rate in RATES]
    if all(r is None for r in rates):
        out["composite"] = None
    else:
        lost = sum(w * (1 - out[rate]) for rate, w in weights(settings).items()
                   if out[rate] is not None)
        out["composite"] = round(100 - lost, 2)
    return out


def signed_in_time() -> ColumnElement[bool]:
    """The department a dispatch went to signed for the case by its sign-for deadline."""
    sign = aliased(CaseEvent)
    signer = aliased(User)
    # The deadline is read here, per dispatch by primary key, rather than by joining the
    # dispatches to ``cases``: PostgreSQL hash-joined that to a full read of ``cases``.
    held = aliased(Case)
    return exists(
        select(sign.id).join(signer, signer.id == sign.actor_id)
        .join(held, held.id == sign.case_id).where(
            sign.case_id == CaseEvent.case_id, sign.action == "sign_for",
            sign.id > CaseEvent.id, sign.created_at <= held.sign_due_at,
            signer.department_id == dispatched_department())
    ).correlate(CaseEvent)


def response_rows(period: Period, handler: User | None = None) -> list[tuple]:
    """``(department, responded, dispatched)``: for the whole city from the timeline's
    daily flows (``step_flows``), for a handler's own cases live (``response_counts``)."""
    if handler is not None:
        start, end = period.bounds()
        return [tuple(row) for row in db.session.execute(response_counts(start, end, handler))]
    counts: dict = {}
    for dep_id, fact, n in db.session.execute(
            step_flows.step_counts("department", period, ("received", "responded"))):
        counts.setdefault(dep_id, {})[fact] = int(n or 0)
    return [(dep_id, c.get("responded", 0), c.get("received", 0))
            for dep_id, c in counts.items()]


def response_counts(start, end, handler: User | None = None) -> Select:
    key = dispatched_department()
    responded = case((signed_in_time(), CaseEvent.case_id), else_=None)
    query = (
        select(key, func.count(responded.distinct()), func.count(CaseEvent.case_id.distinct()))
        .select_from(CaseEvent)
        .where(CaseEvent.action.in_(DISPATCHES), CaseEvent.created_at >= start,
               CaseEvent.created_at < end)
        .group_by(key)
    )
    if handler is None:  # the whole city: no need to read ``cases``
        return query
    return query.join(Case, Case.id == CaseEvent.case_id).where(case_scope(handler))


def counted_ratings(start, end, settings: ReportSettings) -> ColumnElement[bool]:
    statuses = [RatingStatus.RATED]
    if settings.count_defaulted:
        statuses.append(RatingStatus.DEFAULTED)
    return and_(Rating.rated_at >= start, Rating.rated_at < end, Rating.level.is_not(None),
                Rating.set_aside.is_(False), Rating.status.in_(statuses))


def solved_values(settings: ReportSettings) -> list[Solved]:
    return [Solved.YES, Solved.PARTLY] if settings.partly_counts_as_solved else [Solved.YES]


def rating_counts(start, end, settings: ReportSettings, handler: User | None = None) -> Select:
    answered = Rating.solved.is_not(None)
    mine = true() if handler is None else Rating.answered_by_id == handler.id
    return (
        select(Rating.department_id,
               func.sum(case((answered, 1), else_=0)),
               func.sum(case((Rating.solved.in_(solved_values(settings)), 1), else_=0)),
               func.count(),  # not count(id): the index led by rated_at holds no id
               func.sum(case((Rating.level >= settings.satisfied_from_level, 1), else_=0)))
        .where(counted_ratings(start, end, settings), mine)
        .group_by(Rating.department_id)
    )


def rating_rows(period: Period, settings: ReportSettings,
                handler: User | None = None) -> list[tuple]:
    """``(department, answered, solved, rated, satisfied)`` of ``period``, as
    ``rating_counts`` counts them: the whole city's whole months from their monthly counts
    (``rating_months``), the days around them and a handler's own work live."""
    months = whole_months(period) if handler is None else None
    if months is None:
        return [tuple(row) for row in db.session.execute(
            rating_counts(*period.bounds(), settings, handler))]
    first, stop = months
    statuses = [RatingStatus.RATED.value] + (
        [RatingStatus.DEFAULTED.value] if settings.count_defaulted else [])
    parts = [db.session.execute(rating_months.month_counts(
        first, stop, statuses, solved_values(settings), settings.satisfied_from_level))]
    for edge in (Period("custom", period.first, first - timedelta(days=1)),
                 Period("custom", stop, period.last)):
        if edge.first <= edge.last:
            parts.append(db.session.execute(rating_counts(*edge.bounds(), settings)))
    summed: dict = {}
    for rows in parts:
        for dep_id, *counts in rows:
            key = dep_id or None  # the monthly rows keep "at intake" as 0
            before = summed.get(key, (0, 0, 0, 0))
            summed[key] = tuple(a + int(b or 0) for a, b in zip(before, counts, strict=True))
    # A month's row can count nothing (its ratings set aside, moved or taken back): the
    # live count has no such department, and neither does this.
    return [(dep_id, *counts) for dep_id, counts in summed.items() if counts[2]]


# --- the ranking ---------------------------------------------------------------------

RANK_COLUMNS = ("rank", "composite", *RATES,
                *(f"lost_{rate}" for rate in RATES), "lost_total")


def ranking(period: Period, viewer: User) -> Ranking:
    """Departments by composite score (ties: satisfaction, then name), the points each lost
    per rate, 红榜 and 黑榜; a department head gets their own row and rank only."""
    return _ranking(period, viewer, report_settings(), {})


def _ranking(period: Period, viewer: User, settings: ReportSettings,
             computed: dict) -> Ranking:
    reach = report_reach(viewer)
    # The whole city's ranking, narrowed afterwards: a head's rank needs every department.
    slots = [{}, {}, {}]
    if reach in (ReportReach.CITY, ReportReach.DEPARTMENT):
        slots = [_rates_once(each, settings, None, computed) for each in three_periods(period)]
    names = _departments(None)
    ranks = [_ranks(slot, names) for slot in slots]
    order = sorted(ranks[0], key=ranks[0].get)
    w = weights(settings)
    columns = [
        Column("rank", _l("Rank"), "count"),
        Column("composite", _l("Composite score"), "score",
               definition=definitions(settings)["composite"]),
        *(Column(rate, RATE_LABELS[rate], "rate", definition=definitions(settings)[rate])
          for rate in RATES),
        *(Column(f"lost_{rate}", _l("Points lost: %(rate)s", rate=RATE_LABELS[rate]), "score")
          for rate in RATES),
        Column("lost_total", _l("Points lost"), "score"),
    ]
    rows, losses = [], {}
    for dep_id in order:
        values = [_rank_values(slot.get(dep_id), rank.get(dep_id), w)
                  for slot, rank in zip(slots, ranks, strict=True)]
        rows.append(Row(dep_id, names[dep_id],
                        {c: Cell(*(v.get(c) for v in values)) for c in RANK_COLUMNS}))
        losses[dep_id] = sorted(
            (Loss(rate, str(RATE_LABELS[rate]), slots[0][dep_id][rate], w[rate],
                  round(w[rate] * (1 - slots[0][dep_id][rate]), 2))
             for rate in RATES if slots[0][dep_id][rate] is not None),
            key=lambda loss: -loss.points)
    half = min(5, len(rows) // 2)
    result = Ranking(table=Table("ranking", _l("Ranking of departments"), period, "department",
                                 columns, rows),
                     red_list=rows[:half], black_list=list(reversed(rows))[:half],
                     losses=losses, ranked=len(rows))
    if reach is ReportReach.DEPARTMENT:
        own = [r for r in rows if r.key == viewer.department_id]
        result.table.rows = own
        result.red_list, result.black_list = [], []
        result.losses = {k: v for k, v in losses.items() if k == viewer.department_id}
        result.own_rank = ranks[0].get(viewer.department_id)
    return result


def _ranks(slot: dict, names: dict) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of the departments with a composite score."""
    scored = [(dep_id, v) for dep_id, v in slot.items()
              if dep_id in names and v.get("composite") is not None]
    scored.sort(key=lambda item: (-item[1]["composite"], -(item[1]["satisfaction"] or 0),
                                  names[item[0]]))
    ranks, last, place = {}, None, 0
    for i, (dep_id, v) in enumerate(scored, start=1):
        if v["composite"] != last:
            place, last = i, v["composite"]
        ranks[dep_id] = place
    return ranks


def _rank_values(values: dict | None, rank: int | None, w: dict) -> dict:
    if not values or values.get("composite") is None:
        return {}
    out = {"rank": rank, "composite": values["composite"]}
    lost_total = 0.0
    for rate in RATES:
        out[rate] = values[rate]
        lost = None if values[rate] is None else round(w[rate] * (1 - values[rate]), 2)
        out[f"lost_{rate}"] = lost
        lost_total += lost or 0
    out["lost_total"] = round(lost_total, 2)
    return out
