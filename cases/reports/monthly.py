"""The monthly report (月度报告): the four parts a 12345 centre publishes, for any month.

总体情况 (volume, daily average, channel and type mix), 热点分析 (top categories, rising
categories and words by district), 办理情况 (answered at intake against dispatched, on-time
rate, backlog, 差评 and how they were dealt with) and 考核排名 (the 三率 ranking). Every part
is made of report ``Table``s, so the page and the workbook (``monthly_xlsx``) print the same
numbers; the figures come from the one reports service (``figures``, ``hotspots``) or, for
the volumes of this module, from the daily totals (city readers) or one GROUP BY over the
reader's cases (a department head, a handler).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from cases.models import Case, CaseEvent, CaseType, Category, Channel
from cases.reports import figures, hotspots, step_flows
from cases.reports.figures_common import three_periods
from cases.reports.figures_workload import state_total
from cases.reports.periods import Period
from cases.reports.scope import ReportReach, case_scope, department_filter, report_reach
from cases.reports.tables import Cell, Column, Row, Table
from cases.reports.totals import received as total_received
from cases.satisfaction.models import BadReview
from portal.db import db
from portal.models import User

# The parts: key, the workbook's sheet name (always Chinese, as the centre publishes it),
# the page's heading (in the reader's language).
PARTS = (
    ("overview", "总体情况", _l("Overall picture")),
    ("hotspots", "热点分析", _l("Hot spot analysis")),
    ("handling", "办理情况", _l("Handling")),
    ("ranking", "考核排名", _l("Assessment ranking")),
)
RECEIVED_LABEL_ZH = "受理量"  # the workbook's first figure (a fixed point of issue 13)
TOP_CATEGORIES = 10
# 咨询/求助/建议/投诉/举报/表扬: the order the centre lists the types in.
TYPE_ORDER = (CaseType.ENQUIRY, CaseType.HELP, CaseType.SUGGESTION, CaseType.COMPLAINT,
              CaseType.TIPOFF, CaseType.PRAISE)
BAD_REVIEW_OUTCOMES = ("fixed", "rectified", "explained", "set_aside")


@dataclass
class MonthlyReport:
    period: Period
    reach: ReportReach
    parts: dict[str, list[Table]]
    ranking: Any  # figures.Ranking: the table, 红榜 and 黑榜

    @property
    def received(self) -> Cell:
        return self.parts["overview"][0].rows[0].cells["received"]

    def sheets(self) -> list[tuple[str, str, Any, list[Table]]]:
        """``(key, sheet name, heading, tables)`` per part, in order."""
        return [(key, sheet, heading, self.parts[key]) for key, sheet, heading in PARTS]


def monthly_report(month: Period, viewer: User) -> MonthlyReport:
    """The four parts of ``month``'s report as ``viewer`` may read it (their scope)."""
    ranking = figures.ranking(month, viewer)
    counts = counter(viewer)  # the volumes: each period and grouping read once
    parts = {
        "overview": [overview(month, viewer, counts), mix(month, viewer, "channel", counts),
                     mix(month, viewer, "type", counts)],
        "hotspots": [top_categories(month, viewer, counts),
                     hotspots.rising_categories(month, viewer, limit=5),
                     hotspots.rising_words(month, viewer, limit=10)],
        "handling": [handling(month, viewer), bad_reviews(month, viewer)],
        "ranking": [ranking.table],
    }
    return MonthlyReport(month, report_reach(viewer), parts, ranking)


# --- counting over the reader's cases ----------------------------------------------------


def _counts(period: Period, viewer: User, by: str | None) -> dict:
    """Cases received in ``period`` per ``by`` (a key column) or in all (key None): the
    daily totals for the city's readers, one GROUP BY over their cases for the others."""
    if report_reach(viewer) is ReportReach.CITY:
        return total_received(period, by=by)
    start, end = period.bounds()
    column = getattr(Case, by) if by else None
    query = select(*([column] if column is not None else []), func.count()).where(
        case_scope(viewer), Case.created_at >= start, Case.created_at < end)
    if column is None:
        return {None: db.session.scalar(query) or 0}
    return {getattr(k, "value", k): n for k, n in db.session.execute(query.group_by(column))}


Counts = Callable[[Period, "str | None"], dict]


def counter(viewer: User) -> Counts:
    """``_counts`` for one report: each period and grouping is read once (the month's
    total is a share's denominator in three tables)."""
    memo: dict = {}

    def counts(period: Period, by: str | None) -> dict:
        key = (period.bounds(), by)
        if key not in memo:
            memo[key] = _counts(period, viewer, by)
        return memo[key]

    return counts


def _three(period: Period, compute: Callable[[Period], dict]) -> list[dict]:
    return [compute(p) for p in three_periods(period)]


def _cell(slots: list[dict], key: Any) -> Cell:
    return Cell(*(slot.get(key, 0) for slot in slots))


def _share(slots: list[dict], totals: list[dict], key: Any) -> Cell:
    return Cell(*(
        round(slot.get(key, 0) / total[None], 4) if total.get(None) else None
        for slot, total in zip(slots, totals, strict=True)
    ))


def scope_label(viewer: User) -> str:
    reach = report_reach(viewer)
    if reach is ReportReach.CITY:
        return str(_l("Whole city"))
    if reach is ReportReach.DEPARTMENT and viewer.department is not None:
        return viewer.department.name
    return viewer.display_name


# --- 总体情况 ------------------------------------------------------------------------------


def overview(month: Period, viewer: User, counts: Counts | None = None) -> Table:
    """Cases received and the daily average, against the previous month and a year before."""
    counts = counts or counter(viewer)
    totals = _three(month, lambda p: counts(p, None))
    days = [p.days for p in three_periods(month)]
    average = Cell(*(round(t[None] / d, 1) for t, d in zip(totals, days, strict=True)))
    row = Row(None, scope_label(viewer), {"received": _cell(totals, None),
                                            "daily_average": average})
    return Table(
        key="monthly-overview", title=_l("Volume"), period=month, group="scope",
        columns=[Column("received", _l("Cases received")),
                 Column("daily_average", _l("Daily average"), "score")],
        rows=[row],
    )


def mix(month: Period, viewer: User, by: str, counts: Counts | None = None) -> Table:
    """The channel or type mix: cases and their share of the month's cases."""
    counts = counts or counter(viewer)
    slots = _three(month, lambda p: counts(p, by))
    totals = _three(month, lambda p: counts(p, None))
    kinds = list(Channel) if by == "channel" else list(TYPE_ORDER)
    rows = [Row(kind.value, kind.label, {"cases": _cell(slots, kind.value),
                                         "share": _share(slots, totals, kind.value)})
            for kind in kinds]
    return Table(
        key=f"monthly-{by}", title=_l("By channel") if by == "channel" else _l("By type"),
        period=month, group=by,
        columns=[Column("cases", _l("Cases")), Column("share", _l("Share"), "rate")],
        rows=rows,
    )


# --- 热点分析 ------------------------------------------------------------------------------


def top_categories(month: Period, viewer: User, counts: Counts | None = None) -> Table:
    """The month's most asked-about categories, with their earlier counts."""
    counts = counts or counter(viewer)
    slots = _three(month, lambda p: counts(p, "category_id"))
    top = sorted(slots[0], key=lambda k: (-slots[0][k], k))[:TOP_CATEGORIES]
    names = {c.id: c.name for c in db.session.scalars(select(Category).where(Category.id.in_(top)))}
    totals = _three(month, lambda p: counts(p, None))
    rows = [Row(k, names.get(k, str(k)), {"cases": _cell(slots, k),
                                          "share": _share(slots, totals, k)}) for k in top]
    return Table(
        key="monthly-categories", title=_l("Top categories"), period=month, group="category",
        columns=[Column("cases", _l("Cases")), Column("share", _l("Share"), "rate")],
        rows=rows,
    )


# --- 办理情况 ------------------------------------------------------------------------------


def _first_steps(period: Period, viewer: User) -> dict[str, int]:
    """Cases answered at intake and cases handed to a department in ``period`` (timeline)."""
    if report_reach(viewer) is ReportReach.CITY:  # every case: the timeline's daily flows
        found = {fact: int(n or 0) for _key, fact, n in db.session.execute(
            step_flows.step_counts("city", period, ("at_intake", "handed")))}
        return {"answered_at_intake": found.get("at_intake", 0),
                "dispatched": found.get("handed", 0)}
    start, end = period.bounds()
    at_intake = func.count(func.distinct(case((CaseEvent.action == "answer", CaseEvent.case_id))))
    handed = func.count(func.distinct(case(
        (CaseEvent.action.in_(("dispatch", "route")), CaseEvent.case_id))))
    query = (
        select(at_intake, handed)
        .select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.action.in_(("answer", "dispatch", "route")),
               CaseEvent.created_at >= start, CaseEvent.created_at < end, case_scope(viewer))
    )
    intake, dispatched = db.session.execute(query).one()
    return {"answered_at_intake": intake or 0, "dispatched": dispatched or 0}


def handling(month: Period, viewer: User) -> Table:
    """Answered at intake against dispatched, the on-time rate and the backlog at the end
    of the month (the last two as the workload table counts them)."""
    steps = _three(month, lambda p: _first_steps(p, viewer))
    # The workload table's total row, without its steps and durations (not shown here).
    work = _three(month, lambda p: state_total(p, viewer, "department"))
    cells = {key: _cell(steps, key) for key in ("answered_at_intake", "dispatched")}
    cells["on_time_rate"] = Cell(*(w["on_time_rate"] for w in work))
    cells["backlog"] = Cell(*(w["backlog"] for w in work))
    return Table(
        key="monthly-handling", title=_l("How cases were handled"), period=month,
        group="scope",
        columns=[
            Column("answered_at_intake", _l("Answered at intake")),
            Column("dispatched", _l("Handed to departments")),
            Column("on_time_rate", _l("On-time answers"), "rate",
                   definition=_l("Answers given by their deadline, of the answers given.")),
            Column("backlog", _l("Backlog at the end of the month")),
        ],
        rows=[Row(None, scope_label(viewer), cells)],
    )


def _bad_review_counts(period: Period, viewer: User) -> dict[str, int]:
    start, end = period.bounds()
    counted = [BadReview.created_at >= start, BadReview.created_at < end]
    department = department_filter(viewer)
    if report_reach(viewer) is ReportReach.SELF:
        counted.append(BadReview.case_id.in_(select(Case.id).where(case_scope(viewer))))
    elif department is not None:
        counted.append(BadReview.department_id == department)
    columns = [func.count()] + [
        func.sum(case((BadReview.outcome == outcome, 1), else_=0))
        for outcome in BAD_REVIEW_OUTCOMES
    ] + [func.sum(case((BadReview.closed_at.is_(None), 1), else_=0))]
    values = db.session.execute(select(*columns).where(*counted)).one()
    keys = ("bad_reviews", *BAD_REVIEW_OUTCOMES, "open")
    return {key: int(value or 0) for key, value in zip(keys, values, strict=True)}


def bad_reviews(month: Period, viewer: User) -> Table:
    """差评 received in the month and how they were dealt with (整改)."""
    slots = _three(month, lambda p: _bad_review_counts(p, viewer))
    return Table(
        key="monthly-bad-reviews", title=_l("Bad reviews and their rectification"),
        period=month, group="scope",
        columns=[
            Column("bad_reviews", _l("Bad reviews")),
            Column("fixed", _l("Fixed at once")),
            Column("rectified", _l("Rectified")),
            Column("explained", _l("Explained")),
            Column("set_aside", _l("Set aside on appeal")),
            Column("open", _l("Still being dealt with")),
        ],
        rows=[Row(None, scope_label(viewer), {k: _cell(slots, k) for k in (
            "bad_reviews", *BAD_REVIEW_OUTCOMES, "open")})],
        note=_l("Bad reviews (★2 and ★1) given in the month, by how each ended so far."),
    )
