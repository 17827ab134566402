"""Received and closed over time: one row per local day (periods up to two months) or per
month, for the dashboard's line chart and the table beside it.

Part of the one reports service. Per period two GROUP BY queries (cases filed, cases
closed, by local day): for the city's readers over the daily flows (long periods: their
monthly rows), for others over their cases (``scope.case_scope``); the previous period and the
year before are aligned point by point (the n-th day with the n-th day).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, cast, func, select

from cases.models import Case
from cases.reports.figures_common import three_periods
from cases.reports.flows import fact_days
from cases.reports.models import DailyCaseFlow
from cases.reports.periods import Period
from cases.reports.scope import ReportReach, case_scope, report_reach
from cases.reports.tables import Cell, Column, Row, Table
from portal.db import db
from portal.models import User

DAILY_UP_TO = 62  # longer periods are drawn month by month
SERIES_COLUMNS = ("received", "closed")


def _local_day(column, period: Period):
    """SQL: the local calendar day of a UTC column."""
    if db.engine.dialect.name == "postgresql":
        zone = current_app.config["TIMEZONE"]
        return cast(func.timezone(zone, func.timezone("UTC", column)), Date)
    # SQLite knows no zones: the offset at the period's start (none changes in China).
    start, _end = period.bounds()
    offset = start.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return func.date(column, f"{minutes:+d} minutes")


def _per_day(column, period: Period, viewer: User) -> dict[date, int]:
    start, end = period.bounds()
    day = _local_day(column, period)
    rows = db.session.execute(
        select(day, func.count()).select_from(Case)
        .where(column >= start, column < end, case_scope(viewer))
        .group_by(day)
    ).all()
    return {(d if isinstance(d, date) else date.fromisoformat(d)): int(n) for d, n in rows}


def _buckets(period: Period) -> list[tuple[str, date, date]]:
    """The points of the series: (label, first day, last day)."""
    if period.days <= DAILY_UP_TO:
        return [((period.first + timedelta(days=i)).isoformat(),
                 period.first + timedelta(days=i), period.first + timedelta(days=i))
                for i in range(period.days)]
    points, first = [], period.first
    while first <= period.last:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(following - timedelta(days=1), period.last)
        points.append((f"{first:%Y-%m}", first, last))
        first = following
    return points


def _city_per_point(period: Period, daily: str, monthly: str) -> dict[date, int]:
    """The city's cases filed or ended per local day of ``period`` from the daily flows
    (every case has a district, so the district rows add up to all of them); drawn month
    by month, whole months from their monthly rows (``monthly``), each counted on its
    first day in the period."""
    f = DailyCaseFlow
    first, stop = period.first, period.last + timedelta(days=1)
    by_month = period.days > DAILY_UP_TO
    chosen = fact_days(daily, first, stop, monthly if by_month else None)
    found: dict[date, int] = {}
    for day, n in db.session.execute(
            select(f.day, func.sum(f.n)).where(f.dim == "district", chosen).group_by(f.day)):
        point = max(day.replace(day=1), first) if by_month else day
        found[point] = found.get(point, 0) + int(n or 0)
    return {day: n for day, n in found.items() if n}


def _series(period: Period, viewer: User) -> list[dict[str, int]]:
    if report_reach(viewer) is ReportReach.CITY:  # every case: the daily flows
        counts = {"received": _city_per_point(period, "filed", "filed_m"),
                  "closed": _city_per_point(period, "ended", "ended_month")}
    else:
        counts = {"received": _per_day(Case.created_at, period, viewer),
                  "closed": _per_day(Case.closed_at, period, viewer)}
    return [
        {name: sum(n for day, n in by_day.items() if first <= day <= last)
         for name, by_day in counts.items()}
        for _label, first, last in _buckets(period)
    ]


def received_and_closed(period: Period, viewer: User) -> Table:
    """Cases received and closed per day (or month) of ``period``, each point against the
    same point of the previous period and of the year before."""
    done: dict = {}  # a year's previous period is also its year before: read once
    for each in three_periods(period):
        if (each.first, each.last) not in done:
            done[(each.first, each.last)] = _series(each, viewer)
    slots = [done[(each.first, each.last)] for each in three_periods(period)]
    rows = []
    for i, (label, _first, _last) in enumerate(_buckets(period)):
        cells = {
            name: Cell(*(slot[i][name] if i < len(slot) else None for slot in slots))
            for name in SERIES_COLUMNS
        }
        rows.append(Row(label, label, cells))
    daily = period.days <= DAILY_UP_TO
    return Table(
        key="timeline",
        title=_l("Received and closed per day") if daily else _l("Received and closed per month"),
        period=period,
        group="day" if daily else "month",
        columns=[Column("received", _l("Received"), "count"),
                 Column("closed", _l("Closed"), "count")],
        rows=rows,
    )
