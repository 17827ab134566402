"""The lists behind a figure found from the steps or ratings (issue 13, sixth pass).

``figures_drill.drill_page`` finds a page and the count in one pass over the matching
cases; it must give what ``paginate`` gives over the same ``drill_down`` (its page, newest
first, and ``counting=True``'s count) for every figure, key, reader, grouping and page,
the last and one beyond it included. A department's dispatches are read from
``ix_case_events_department``, whose expression is the one ``dispatched_department``
writes (a query written otherwise would silently read every dispatch of the period).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text

from cases.models import Case, CaseEvent
from cases.reports import figures
from cases.reports.figures_common import DISPATCHES, dispatched_department
from cases.reports.figures_drill import DRILLS, drill_page, found_from_steps
from cases.reports.periods import Period
from portal.db import db
from portal.pagination import paginate
from tests.test_report_figures import MARCH, desk, viewer  # noqa: F401  (the fixture)

YEAR = Period.containing("year", date(2026, 3, 1))
PER_PAGE = 2


def expected(period, figure, key, reader, by):
    """Every page of ``paginate`` over the list, as the view ran it before, with one page
    beyond the last: [(ids, total), ...]."""
    stmt = figures.drill_down(period, figure, key, reader, by=by)
    counted = figures.drill_down(period, figure, key, reader, by=by, counting=True)
    count = select(func.count()).select_from(counted.order_by(None).subquery())
    pages, number = [], 1
    while True:
        found = paginate(stmt, number, PER_PAGE, count=count)
        pages.append(([c.id for c in found.items], found.total))
        if not found.items:
            return pages
        number += 1


def test_one_pass_gives_the_pages_and_the_count_paginate_gives(database, desk):  # noqa: F811
    listed = [f for f in DRILLS if found_from_steps(f, "department")]
    assert set(listed) == {"received", "signed", "redo", "return", "transfers", "extensions",
                           "dispatched", "responded", "rated", "bad_ratings", "unsatisfied",
                           "unsolved"}
    assert not found_from_steps("received", "category")
    assert found_from_steps("rated", "category")  # 三率 are per department whatever ``by``
    with database.app_context():
        readers = [viewer(u) for u in (desk.official, desk.supervisor, desk.head_u,
                                       desk.head_t, desk.u1, desk.t1)]
        seen = 0
        for period in (MARCH, YEAR, MARCH.previous()):
            for reader in readers:
                for by, keys in (("department", (desk.urban, desk.transport, None)),
                                 ("staff", (desk.u1, desk.t1, None))):
                    for figure in listed:
                        for key in keys:
                            want = expected(period, figure, key, reader, by)
                            stmt = figures.drill_down(period, figure, key, reader, by=by)
                            got = []
                            for number in range(1, len(want) + 1):
                                page = drill_page(stmt, number, PER_PAGE)
                                assert page.per_page == PER_PAGE and page.page == number
                                got.append(([c.id for c in page.items], page.total))
                            assert got == want, (period.key(), reader.role, by, figure, key)
                            seen += sum(len(ids) for ids, _total in want)
        assert seen > 100  # the lists are not all empty


def test_a_page_reads_its_cases_whole(database, desk):  # noqa: F811
    with database.app_context():
        stmt = figures.drill_down(MARCH, "received", desk.urban, viewer(desk.supervisor))
        page = drill_page(stmt, 1, 100)
        assert page.total == 4 and len(page.items) == 4
        assert all(isinstance(c, Case) and c.number for c in page.items)
        dates = [(c.created_at, c.id) for c in page.items]
        assert dates == sorted(dates, reverse=True)  # newest first, as the page was


def test_a_departments_dispatches_are_read_from_their_index(database, desk):  # noqa: F811
    with database.app_context():
        start, end = YEAR.bounds()
        query = select(CaseEvent.case_id).where(
            dispatched_department() == desk.urban, CaseEvent.action.in_(DISPATCHES),
            CaseEvent.created_at >= start, CaseEvent.created_at < end)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.connect() as connection:
            if postgres:  # a handful of rows: make the table's scan dear, not impossible
                connection.execute(text("SET LOCAL enable_seqscan = off"))
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = " ".join(str(r[-1]) for r in connection.execute(text(prefix + str(compiled))))
            assert "ix_case_events_department" in plan, plan
            # and the index holds what the expression says, line for line
            assert sorted(connection.execute(query).scalars()) == sorted(
                e.case_id for e in db.session.scalars(select(CaseEvent).where(
                    CaseEvent.action.in_(DISPATCHES), CaseEvent.created_at >= start,
                    CaseEvent.created_at < end))
                if (e.details or {}).get("department") == desk.urban)
            connection.rollback()
