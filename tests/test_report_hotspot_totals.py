"""The city's rising categories from the daily totals, one GROUP BY per distinct period
(issue 13, sixth pass): the same counts per district, category and period as the cases
give, for a month (three periods), a year (its previous period is its year before) and
ranges across them, with and without a district."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select

from cases.models import Case
from cases.reports.hotspots import SLOTS, _from_totals, _periods, rising_categories
from cases.reports.periods import Period
from portal.db import db
from tests.test_report_figures import MARCH, desk, viewer  # noqa: F401  (the fixture)


def live(periods: dict, district_id: int | None) -> dict:
    counted = {}
    for slot, period in periods.items():
        start, end = period.bounds()
        query = (select(Case.district_id, Case.category_id, func.count())
                 .where(and_(Case.created_at >= start, Case.created_at < end))
                 .group_by(Case.district_id, Case.category_id))
        if district_id is not None:
            query = query.where(Case.district_id == district_id)
        for district, category, n in db.session.execute(query):
            counted.setdefault((district, category), dict.fromkeys(SLOTS, 0))[slot] = n
    return counted


def test_the_totals_count_what_the_cases_count(database, desk, world):  # noqa: F811
    with database.app_context():
        for period in (MARCH, MARCH.previous(), Period.containing("year", date(2026, 3, 1)),
                       Period.containing("quarter", date(2026, 3, 1)),
                       Period.custom(date(2026, 2, 20), date(2026, 3, 5))):
            periods = _periods(period)
            for district_id in (None, world.gulou.id, world.taijiang.id):
                found = {(d, c): {s: int(n or 0) for s, n in counts.items()}
                         for d, c, counts in _from_totals(periods, district_id)}
                want = live(periods, district_id)
                assert {k: v for k, v in found.items() if any(v.values())} == want, \
                    (period.key(), district_id)
        year = rising_categories(Period.containing("year", date(2026, 3, 1)),
                                 viewer(desk.official))
        assert year.rows and all(r["cases"].previous == r["cases"].year_before
                                 for r in year.rows)
