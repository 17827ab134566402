"""The public statistics page's figures (``/stats``): volumes, 三率, satisfaction and the
median time to answer, by department and by month over the last twelve months.

Counts only: no personal data, no free text. The figures are computed by the sweep (or
one background refresh) and stored as plain JSON data (``cases.reports.stats_store``), so
no visitor's request computes them (docs/REPORTS.md, "The public statistics page"). The
rates follow the same rules as the officials' figures (``ReportSettings``: the satisfied
levels, whether defaulted ratings and "partly solved" count; ratings set aside on appeal
never count).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from cases.reports import duration_counts
from cases.reports.figures_rates import rating_rows, response_rows
from cases.reports.models import DailyCaseFlow, ReportSettings
from cases.reports.periods import Period, today
from cases.reports.settings import report_settings
from cases.reports.totals import received
from portal.db import db, utcnow
from portal.models import Department

MONTHS = 12
SERVICE_CENTRE = 0  # the row of answers given at intake (no department)


def months_shown(last_day: date | None = None) -> list[Period]:
    """The last twelve months, the current one last."""
    day = last_day or today()
    months = [Period.month(day.year, day.month)]
    while len(months) < MONTHS:
        months.insert(0, months[0].previous())
    return months


def _department(column: Any) -> Any:
    return func.coalesce(column, SERVICE_CENTRE)


def _month_slots(month: Period, settings: ReportSettings) -> dict[int, dict[str, Any]]:
    """One month's counts per department: the daily flows (received), the timeline's
    flows (三率's response) and the monthly counts of ratings."""
    slots: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    f = DailyCaseFlow
    handed = 0
    for key, n in db.session.execute(
        select(f.key, func.sum(f.n)).where(
            f.dim == "department", f.fact == "filed", f.day >= month.first,
            f.day <= month.last).group_by(f.key)
    ):
        slots[key]["received"] = int(n or 0)
        handed += int(n or 0)
    # Not (yet) with a department: the service centre's row.
    if received(month)[None] > handed:
        slots[SERVICE_CENTRE]["received"] = received(month)[None] - handed
    # 三率 counted exactly as the officials' figures count them (figures_rates).
    for key, responded, dispatched in response_rows(month):
        key = key or SERVICE_CENTRE
        slots[key]["dispatched"] += int(dispatched or 0)
        slots[key]["signed_on_time"] += int(responded or 0)
    for key, answered, solved, rated, satisfied in rating_rows(month, settings):
        key = key or SERVICE_CENTRE
        for name, value in (("answered_solved", answered), ("solved", solved),
                            ("rated", rated), ("satisfied", satisfied)):
            slots[key][name] += int(value or 0)
    per_key, _pooled = _answer_hours(month)
    for key, found in per_key.items():
        slots[key]["answered"] += found["n"]
    return slots


def _answer_hours(period: Period) -> tuple[dict, dict]:
    """Median hours from filing to the answer per department (the service centre 0) and
    pooled, and how many answers: from the kept answer durations' histograms
    (``duration_counts``), each rank one read of an index."""
    per_key, pooled = duration_counts.ranked(period, "department", keyed=False, keep=None,
                                             digits=1, kinds=("answer",))["answer"]
    return {key or SERVICE_CENTRE: found for key, found in per_key.items()}, pooled


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _figures(slot: dict[str, Any], answers: dict | None) -> dict[str, Any]:
    """What a row shows, from its counts and its answers' median hours (JSON-able)."""
    return {
        "received": slot.get("received", 0),
        "answered": slot.get("answered", 0),
        "response_rate": _ratio(slot.get("signed_on_time", 0), slot.get("dispatched", 0)),
        "resolution_rate": _ratio(slot.get("solved", 0), slot.get("answered_solved", 0)),
        "satisfaction_rate": _ratio(slot.get("satisfied", 0), slot.get("rated", 0)),
        "rated": slot.get("rated", 0),
        "median_hours": (answers or {}).get("median"),
    }


def _merge(into: dict[str, Any], slot: dict[str, Any]) -> None:
    for name, value in slot.items():
        into[name] = into.get(name, 0) + value


def compute_public_stats() -> dict[str, Any]:
    """The public page's figures, computed now (JSON-able: numbers and names only)."""
    settings = report_settings()
    months = months_shown()
    window = Period.custom(months[0].first, months[-1].last)
    by_month = received(window, by="month")  # volumes read the monthly totals
    month_rows, departments = [], defaultdict(dict)
    for month in months:
        slots = _month_slots(month, settings)
        whole: dict[str, Any] = {}
        for key, slot in slots.items():
            _merge(whole, slot)
            _merge(departments[key], slot)
        row = _figures(whole, _answer_hours(month)[1])
        row["received"] = by_month.get(month.first, 0)
        month_rows.append({"month": month.key(), **row})
    answers, _pooled = _answer_hours(window)
    names = {d.id: (d.name_zh, d.name_en) for d in db.session.scalars(
        select(Department).where(Department.id.in_([k for k in departments if k])))}
    department_rows = []
    for key, slot in departments.items():
        if key != SERVICE_CENTRE and key not in names:
            continue
        name_zh, name_en = names.get(key, (None, None))  # None: the service centre
        department_rows.append({"name_zh": name_zh, "name_en": name_en,
                                **_figures(slot, answers.get(key))})
    department_rows.sort(key=lambda r: (r["name_zh"] is None, -r["received"], r["name_zh"] or ""))
    return {
        "first": window.first.isoformat(),
        "last": window.last.isoformat(),
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "satisfied_from_level": settings.satisfied_from_level,
        "months": month_rows,
        "departments": department_rows,
    }
