"""Hot spots: the categories and the words rising by district (issue 13, part 4).

A category or word rises when the cases that fall under it (a word: whose title or
description says it) in the period outnumber those of the previous period of the same
kind and length; rows are ranked by that rise, then by the count, per district. Both come
as ``Table``\\ s with the same period against period cells as every figure, so the
dashboard, the monthly report and the exports take them as they are. Counts are over the
reader's report scope (``scope.case_scope``): a department head reads their department's
cases. Early warning (alerts) is ``cases.reports.hotspot_alerts``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from cases.models import Case, Category
from cases.reports import hotspot_words
from cases.reports.periods import Period
from cases.reports.scope import ReportReach, case_scope, department_filter, report_reach
from cases.reports.tables import Cell, Column, Row, Table
from cases.reports.totals import received_rows
from portal.db import db
from portal.models import District, User

SLOTS = ("value", "previous", "year_before")


@dataclass
class HotspotRow(Row):
    """A row of a hot-spot table: what it is about, for links to the cases behind it."""

    district_id: int | None = None
    category_id: int | None = None
    word: str | None = None


def _columns(count_label) -> list[Column]:
    return [
        Column("district", _l("District"), kind="text"),
        Column("cases", count_label, kind="count"),
    ]


def _periods(period: Period) -> dict[str, Period]:
    return dict(zip(SLOTS, (period, period.previous(), period.year_before()), strict=True))


def _in(period: Period):
    start, end = period.bounds()
    return and_(Case.created_at >= start, Case.created_at < end)


def _from_totals(periods: dict[str, Period], district_id: int | None) -> list[tuple]:
    """``(district, category, {slot: count})``: the city's cases received per district and
    category in each period, from the daily and monthly totals (``totals.py``), a few
    thousand rows instead of three periods of cases; each distinct period read once (a
    year's previous period is its year before)."""
    filters = {} if district_id is None else {"district_id": district_id}
    found: dict[tuple, dict[str, int]] = {}
    done: dict[tuple, Counter] = {}
    for slot, p in periods.items():
        if (p.first, p.last) not in done:
            done[(p.first, p.last)] = received_rows(p, ("district_id", "category_id"),
                                                    **filters)
        for (district, category), n in done[(p.first, p.last)].items():
            found.setdefault((district, category), dict.fromkeys(SLOTS, 0))[slot] = n
    return [(district, category, counts) for (district, category), counts in found.items()]


def _district_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {d.id: d.name for d in db.session.scalars(select(District).where(District.id.in_(ids)))}


def _ranked(counts: dict[str, Counter], limit: int) -> list:
    """Keys of ``counts["value"]`` that rose against ``counts["previous"]``: the most risen
    first, then the most counted, then the key (a stable order)."""
    now, before = counts["value"], counts["previous"]
    rising = [key for key, n in now.items() if n > before.get(key, 0)]
    rising.sort(key=lambda key: (-(now[key] - before.get(key, 0)), -now[key], str(key)))
    return rising[:limit]


def _filters(viewer: User, district_id: int | None) -> dict[str, str]:
    filters = {"scope": report_reach(viewer).value}
    if department_filter(viewer) is not None:
        filters["department"] = str(department_filter(viewer))
    if district_id is not None:
        filters["district"] = _district_names({district_id}).get(district_id, str(district_id))
    return filters


def rising_categories(
    period: Period, viewer: User, district_id: int | None = None, limit: int = 10
) -> Table:
    """Per district, the ``limit`` categories whose cases rose most against the previous
    period (one grouped query over the three periods)."""
    periods = _periods(period)
    if report_reach(viewer) is ReportReach.CITY:  # every case: the daily totals hold them
        found = _from_totals(periods, district_id)
    else:
        counted = [
            func.sum(case((_in(p), 1), else_=0)).label(slot) for slot, p in periods.items()
        ]
        query = (
            select(Case.district_id, Case.category_id, *counted)
            .where(case_scope(viewer), or_(*(_in(p) for p in periods.values())))
            .group_by(Case.district_id, Case.category_id)
        )
        if district_id is not None:
            query = query.where(Case.district_id == district_id)
        found = [(row.district_id, row.category_id, {slot: getattr(row, slot) for slot in SLOTS})
                 for row in db.session.execute(query)]
    per_district: dict[int, dict[str, Counter]] = {}
    for district, category, counts in found:
        slots = per_district.setdefault(district, {slot: Counter() for slot in SLOTS})
        for slot in SLOTS:
            slots[slot][category] = int(counts[slot] or 0)
    chosen = {d: _ranked(slots, limit) for d, slots in per_district.items()}
    category_ids = {c for ids in chosen.values() for c in ids}
    names = {
        c.id: c.name
        for c in db.session.scalars(select(Category).where(Category.id.in_(category_ids)))
    } if category_ids else {}
    districts = _district_names(set(chosen))
    rows: list[Row] = []
    for d in sorted(chosen, key=lambda d: (districts.get(d, ""), d)):
        slots = per_district[d]
        for c in chosen[d]:
            cell = Cell(slots["value"][c], slots["previous"][c], slots["year_before"][c])
            rows.append(HotspotRow(
                key=f"{d}:{c}", label=names.get(c, str(c)),
                cells={"district": Cell(districts.get(d, str(d))), "cases": cell},
                district_id=d, category_id=c,
            ))
    return Table(
        key="hotspots-categories", title=_l("Rising categories by district"), period=period,
        group="category", columns=_columns(_l("Cases received")), rows=rows,
        filters=_filters(viewer, district_id),
        note=_l("Categories whose cases received in the period rose most against the "
                "previous period, per district."),
    )


def _word_counts(period: Period, viewer: User, district_id: int | None,
                 max_cases: int) -> dict[int, Counter[str]]:
    """``{district: Counter(word → cases)}`` over the newest ``max_cases`` of the period
    (``hotspot_words.period_word_counts``: day by day, cached)."""
    scope = [case_scope(viewer)]
    if district_id is not None:
        scope.append(Case.district_id == district_id)
    key = " AND ".join(
        str(clause.compile(compile_kwargs={"literal_binds": True})) for clause in scope
    )
    return hotspot_words.period_word_counts(period, scope, key, max_cases)


def rising_words(
    period: Period, viewer: User, district_id: int | None = None, limit: int = 20,
    max_cases: int = hotspot_words.MAX_WORD_CASES,
) -> Table:
    """Per district, the ``limit`` words of titles and descriptions said by more cases than
    in the previous period (segmented with jieba; stop words, single characters and
    numbers dropped; the newest ``max_cases`` cases of each period read)."""
    periods = _periods(period)
    done: dict[tuple, dict[int, Counter[str]]] = {}  # a year's previous is its year before
    for p in periods.values():
        if (p.first, p.last) not in done:
            done[(p.first, p.last)] = _word_counts(p, viewer, district_id, max_cases)
    counts = {slot: done[(p.first, p.last)] for slot, p in periods.items()}
    districts = _district_names(set(counts["value"]))
    rows: list[Row] = []
    for d in sorted(counts["value"], key=lambda d: (districts.get(d, ""), d)):
        slots = {slot: counts[slot].get(d, Counter()) for slot in SLOTS}
        for word in _ranked(slots, limit):
            cell = Cell(slots["value"][word], slots["previous"][word], slots["year_before"][word])
            rows.append(HotspotRow(
                key=f"{d}:{word}", label=word,
                cells={"district": Cell(districts.get(d, str(d))), "cases": cell},
                district_id=d, word=word,
            ))
    return Table(
        key="hotspots-words", title=_l("Rising words by district"), period=period,
        group="word", columns=_columns(_l("Cases saying it")), rows=rows,
        filters=_filters(viewer, district_id),
        note=_l("Words of the case titles and descriptions (segmented; common words, single "
                "characters and numbers left out) said by more cases than in the previous "
                "period, per district; at most the %(cases)d newest cases of each period are "
                "read.", cases=max_cases),
    )


def by_district(table: Table) -> list[tuple[str, list[Row]]]:
    """A hot-spot table's rows grouped by district, in the table's order (for pages)."""
    groups: dict[str, list[Row]] = {}
    for row in table.rows:
        groups.setdefault(str(row.cells["district"].value), []).append(row)
    return list(groups.items())
