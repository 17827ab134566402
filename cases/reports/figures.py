"""THE reports service: every figure officials read is computed here, never in views or
templates (docs/REPORTS.md, "Definitions", says exactly what each one counts).

Public functions (their signatures are what pages, charts, exports and the monthly report
build on):

- ``workload(period, viewer, by="department") -> Table`` — by department, category,
  district or staff member;
- ``three_rates(period, viewer) -> Table`` — 三率 and the composite per department;
- ``ranking(period, viewer) -> Ranking`` — departments by composite score, points lost per
  rate, 红榜 / 黑榜;
- ``three_rates_and_ranking(period, viewer)`` — both, each period's rates computed once
  (the dashboard);
- ``drill_down(period, figure, key, viewer, by="department") -> Select`` — the cases behind
  a cell (``Column.drill`` names the figure, ``Row.key`` the key; None: the total row).

Every Table holds the period, the previous period and the same period a year before in
each Cell; each period is a handful of GROUP BY queries, never one per row. The work lives
in ``figures_workload``, ``figures_rates`` and ``figures_drill`` (shared pieces in
``figures_common``); this module is the one name callers import.
"""

from __future__ import annotations

from cases.reports.figures_common import GROUPS, FigureError, three_periods
from cases.reports.figures_drill import DRILLS, drill_down
from cases.reports.figures_rates import (
    RATES,
    Loss,
    Ranking,
    ranking,
    three_rates,
    three_rates_and_ranking,
)
from cases.reports.figures_workload import WORKLOAD_COLUMNS, workload

__all__ = [
    "DRILLS",
    "GROUPS",
    "RATES",
    "WORKLOAD_COLUMNS",
    "FigureError",
    "Loss",
    "Ranking",
    "drill_down",
    "ranking",
    "three_periods",
    "three_rates",
    "three_rates_and_ranking",
    "workload",
]
