"""How the suggestions fare in use (``/admin/intake``): over the last N days, the lists
shown and what became of them, by surface; the recent decisions, a page at a time.

Definitions: *shown* is every list recorded in the period (a form typed into counts once);
*decided* those a filing settled (taken, overridden or auto-routed); *top-1* is (taken at
rank 1 + auto-routed) / decided, *top-3* (taken at any rank + auto-routed) / decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from cases.catalogue.models import Category
from cases.models import Case
from cases.smart_intake.models import IntakeSuggestion
from cases.smart_intake.suggestions import AUTO_ROUTED, OVERRIDDEN, SHOWN, SURFACES, TAKEN
from portal.db import db, utcnow

PERIODS = (7, 30, 90, 365)  # days
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Usage:
    """The counts of one surface (or all: ``surface`` None) over the period."""

    surface: str | None
    shown: int = 0
    taken_first: int = 0
    taken_other: int = 0
    overridden: int = 0
    auto_routed: int = 0
    urgent: int = 0

    @property
    def decided(self) -> int:
        return self.taken_first + self.taken_other + self.overridden + self.auto_routed

    @property
    def taken(self) -> int:
        return self.taken_first + self.taken_other

    @property
    def top1(self) -> float | None:
        return (self.taken_first + self.auto_routed) / self.decided if self.decided else None

    @property
    def top3(self) -> float | None:
        return (self.taken + self.auto_routed) / self.decided if self.decided else None


def since(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def usage(days: int) -> list[Usage]:
    """One ``Usage`` per surface that has rows, then the total (``surface`` None)."""
    row = IntakeSuggestion
    first = (row.outcome == TAKEN) & (row.taken_rank == 1)
    stmt = (
        select(
            row.surface,
            func.count(),
            func.count().filter(first),
            func.count().filter((row.outcome == TAKEN) & ~first),
            func.count().filter(row.outcome == OVERRIDDEN),
            func.count().filter(row.outcome == AUTO_ROUTED),
            func.count().filter(row.urgent.is_(True)),
        )
        .where(row.created_at >= since(days))
        .group_by(row.surface)
    )
    found = {surface: Usage(surface, *counts) for surface, *counts in db.session.execute(stmt)}
    rows = [found[s] for s in SURFACES if s in found]
    total = Usage(None, *(sum(getattr(u, name) for u in rows) for name in (
        "shown", "taken_first", "taken_other", "overridden", "auto_routed", "urgent")))
    return [*rows, total]


def decisions_query(days: int) -> Select:
    """The settled rows of the period, newest decision first, with the case's number and
    the chosen category's name."""
    chosen = aliased(Category)
    return (
        select(IntakeSuggestion, Case.number, chosen)
        .outerjoin(Case, Case.id == IntakeSuggestion.case_id)
        .outerjoin(chosen, chosen.id == IntakeSuggestion.chosen_category_id)
        .where(IntakeSuggestion.outcome != SHOWN, IntakeSuggestion.created_at >= since(days))
        .order_by(IntakeSuggestion.decided_at.desc(), IntakeSuggestion.id.desc())
    )
