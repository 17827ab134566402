"""The shape every figure travels in, from the one reports service to pages and files.

A ``Table`` is columns (what each figure is, how it reads, its definition) and rows (one
per department, category, district, staff member... and a total); each ``Cell`` holds the
period's value beside the previous period's and the same period a year before, so every
page and export shows the change without computing anything. ``drill`` names the figure
a cell's case list is read by (``figures.drill_down``), None when there is no list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cases.reports.periods import Period

# How a value reads: a count, a rate (0..1), hours, points of a score, or text.
KINDS = ("count", "rate", "hours", "score", "text")


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy string: the page's language decides
    kind: str = "count"
    definition: Any = None  # shown beside the figure (三率, rates)
    drill: str | None = None  # the figure behind the cell's case list


@dataclass
class Cell:
    value: float | int | None
    previous: float | int | None = None
    year_before: float | int | None = None

    @staticmethod
    def _change(now: float | int | None, then: float | int | None) -> float | None:
        if now is None or then is None:
            return None
        return now - then

    @property
    def change(self) -> float | None:
        """Against the previous period (a difference: counts, points, rate points)."""
        return self._change(self.value, self.previous)

    @property
    def change_year(self) -> float | None:
        """Against the same period a year before."""
        return self._change(self.value, self.year_before)


@dataclass
class Row:
    key: int | str | None  # the group's id (department id, category id...); None: total
    label: str
    cells: dict[str, Cell] = field(default_factory=dict)

    def __getitem__(self, column: str) -> Cell:
        return self.cells[column]


@dataclass
class Table:
    key: str  # "workload-department", "rates", "ranking"... (file names, anchors)
    title: Any
    period: Period
    group: str  # what a row is: "department", "category", "district", "staff", "month"...
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    filters: dict[str, str] = field(default_factory=dict)  # written into exported files
    note: Any = None  # how the figures were computed, shown under the table

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)
