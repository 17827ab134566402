"""The daily flows (cases.reports.flows) follow every change of a case, and the workload's
state figures summed from them equal the live computation over the cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from cases.models import Case, CaseStatus
from cases.reports import duration_counts, figures_workload, timings
from cases.reports.figures_common import durations
from cases.reports.flows import live_flows, rebuild_flows
from cases.reports.models import DailyCaseFlow, ReportDuration, ReportDurationCount
from cases.reports.periods import Period, today
from cases.reports.step_flows import live_step_flows, step_counts
from portal.db import db, utcnow
from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_report_figures import MARCH, at, desk, viewer  # noqa: F401 (fixture)
from tests.test_sweep import set_case


def kept() -> Counter:
    rows = db.session.execute(select(
        DailyCaseFlow.dim, DailyCaseFlow.day, DailyCaseFlow.key, DailyCaseFlow.fact,
        DailyCaseFlow.since, DailyCaseFlow.n)).all()
    return Counter({tuple(r[:5]): r[5] for r in rows if r[5]})


def live() -> Counter:
    found = live_flows()
    found.update(live_step_flows(db.session.connection()))
    return Counter({k: n for k, n in found.items() if n})


def both_ways(period: Period, by: str, official) -> tuple[dict, dict]:
    """The state figures per key from the flows and from the live query over the cases."""
    start, end = period.bounds()
    summed = {row[0]: tuple(row[1:]) for row in figures_workload._case_rows(period, by, official)}
    counted = {}
    for key, *values in db.session.execute(
            figures_workload._case_counts(by, official, start, end)):
        if by in ("department", "staff") and key is None:
            continue
        counted[key] = tuple(int(v or 0) for v in values)
    nothing = (0,) * 7
    return ({k: v for k, v in summed.items() if v != nothing},
            {k: v for k, v in counted.items() if v != nothing})


def steps_both_ways(period: Period, by: str, official) -> tuple[dict, dict]:
    """The timeline's step counts per key from the flows and from the live query."""
    start, end = period.bounds()
    facts = figures_workload.STEP_FACTS
    summed = {(k, f): int(n) for k, f, n in db.session.execute(step_counts(by, period, facts))
              if n}
    counted = {(k, f): int(n) for k, f, n in db.session.execute(
        figures_workload._step_counts(by, official, start, end)) if n and k is not None}
    return summed, counted


def durations_both_ways(period: Period, by: str, official, keep=None) -> list[tuple]:
    """Medians and p90 from the histograms of the kept durations and from the live
    timeline and cases."""
    start, end = period.bounds()
    keyed = by in ("department", "staff")
    ranked = duration_counts.ranked(period, by, keyed, keep)
    return [
        (ranked[kind], durations(live(by, official, start, end), keyed, keep))
        for kind, live in (("sign", figures_workload._sign_times),
                           ("close", figures_workload._close_times))
    ]


def answers_both_ways(period: Period) -> bool:
    """``/stats``' hours to the answer per department from the histograms equal the live
    ranking of every answered case's hours (as ``/stats`` computed them before)."""
    start, end = period.bounds()
    pairs = select(Case.department_id.label("key"), Case.replied_at.label("later"),
                   Case.created_at.label("earlier")).where(
        Case.replied_at >= start, Case.replied_at < end)
    kept_ones = duration_counts.ranked(period, "department", False, None, digits=1,
                                       kinds=("answer",))["answer"]
    assert kept_ones == durations(pairs, keyed=False, keep=None, digits=1)
    return True


def kept_durations() -> set:
    d = ReportDuration
    return set(db.session.execute(select(d.kind, d.at, d.ref_id, d.case_id, d.earlier,
                                         d.micros, d.department_id, d.staff_id, d.category_id,
                                         d.district_id, d.bucket)).all())


def kept_counts() -> Counter:
    c = ReportDurationCount
    rows = db.session.execute(select(c.dim, c.months, c.start, c.kind, c.key, c.bucket,
                                     c.n)).all()
    return Counter({tuple(r[:6]): r[6] for r in rows if r[6]})


def counted_durations() -> Counter:
    """The histograms recounted from the durations recomputed from the cases."""
    rows: list = []
    live_step_flows(db.session.connection(), rows)
    return Counter({k: n for k, n in duration_counts.cells_of(rows).items() if n})


def live_durations() -> set:
    rows: list = []
    live_step_flows(db.session.connection(), rows)
    return {tuple(r.values()) for r in rows}


def test_flows_equal_the_live_figures(database, desk):  # noqa: F811 (the fixture)
    with database.app_context():
        periods = [MARCH, MARCH.previous(), MARCH.year_before(),
                   Period.containing("year", MARCH.first), Period.containing("week", today()),
                   Period.containing("month", today()),
                   # Whole months from the monthly rows, the days around them from the
                   # daily ones; this year's overdue: whole months before today's.
                   Period.custom(date(2026, 2, 10), date(2026, 4, 20)),
                   Period.containing("year", today()), Period.containing("quarter", today())]
        # A case due earlier today and not answered: overdue today (read live).
        case = db.session.get(Case, desk.cases["C"])
        case.created_at = utcnow() - timedelta(days=3)
        case.reply_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert kept() == live()
        official = viewer(desk.official)
        for period in periods:
            for by in ("department", "category", "district", "staff"):
                summed, counted = both_ways(period, by, official)
                assert summed == counted, (period.key(), by)
                summed, counted = steps_both_ways(period, by, official)
                assert summed == counted, (period.key(), by)
                for kept_ones, live_ones in durations_both_ways(period, by, official):
                    assert kept_ones == live_ones, (period.key(), by)
            assert answers_both_ways(period), period.key()
        assert kept_durations() == live_durations()
        assert kept_counts() == counted_durations()
        summed, _ = both_ways(MARCH, "department", official)
        # filed (0 by department), open, backlog, closed, overdue, answered, on time
        assert summed[desk.urban] == (0, 1, 1, 1, 1, 2, 1)


def test_the_city_series_from_the_flows_equals_the_cases(database, desk):  # noqa: F811
    """Received and closed per day, or per month over long periods (whole months from the
    flows' monthly rows, the days around them from the daily ones), as counted from the
    cases themselves."""
    from cases.reports import figures_series as series

    with database.app_context():
        official = viewer(desk.official)
        for period in (MARCH, Period.containing("year", MARCH.first),
                       Period.custom(date(2026, 2, 10), date(2026, 6, 20)),
                       Period.containing("quarter", MARCH.first)):
            counts = {"received": series._per_day(Case.created_at, period, official),
                      "closed": series._per_day(Case.closed_at, period, official)}
            live_points = [{name: sum(n for day, n in by_day.items() if a <= day <= b)
                            for name, by_day in counts.items()}
                           for _label, a, b in series._buckets(period)]
            assert series._series(period, official) == live_points, period
            assert any(point["received"] for point in live_points), period


def test_flows_follow_every_change(database, world):
    citizen = make_user(database, Role.CITIZEN)
    head = make_user(database, Role.DEPARTMENT_HEAD, world.urban.id)
    first = make_case(database, citizen, world)
    second = make_case(database, citizen, world)
    with database.app_context():
        assert kept() == live()
    # Dispatched, assigned, answered late, closed; then moved to another department.
    set_case(database, first.number, department_id=world.urban.id, assignee_id=head.id,
             reply_due_at=datetime(2026, 3, 10, tzinfo=UTC),
             replied_at=datetime(2026, 3, 12, tzinfo=UTC),
             created_at=datetime(2026, 3, 1, 16, 0, tzinfo=UTC))
    set_case(database, first.number, status=CaseStatus.CLOSED,
             closed_at=datetime(2026, 3, 13, tzinfo=UTC))
    set_case(database, second.number, department_id=world.transport.id,
             reply_due_at=datetime(2026, 3, 31, 15, 59, tzinfo=UTC))
    with database.app_context():
        assert kept() == live()
        flows = kept()
        # Filed at local midnight (UTC+8): counts on 2 March.
        day = datetime(2026, 3, 2).date()
        assert flows[("department", day, world.urban.id, "filed", day)] == 1
        assert flows[("staff", day, head.id, "filed", day)] == 1
    set_case(database, first.number, department_id=world.transport.id, closed_at=None,
             status=CaseStatus.IN_PROGRESS)
    with database.app_context():
        assert kept() == live()
        assert kept_durations() == live_durations()
        assert kept_counts() == counted_durations()
        db.session.delete(db.session.get(Case, second.id))
        db.session.commit()
        assert kept() == live()
        assert kept_durations() == live_durations()
        assert kept_counts() == counted_durations()


def test_rebuild_recomputes_the_flows(database, world):
    citizen = make_user(database, Role.CITIZEN)
    for _ in range(3):
        make_case(database, citizen, world)
    with database.app_context():
        expected = live()
        db.session.execute(DailyCaseFlow.__table__.update().values(n=7))
        db.session.commit()
        assert kept() != expected
    result = database.test_cli_runner().invoke(args=["reports", "rebuild-totals"])
    assert result.exit_code == 0, result.output
    with database.app_context():
        assert kept() == expected
        assert rebuild_flows() == len(expected)
        db.session.commit()


def test_core_writes_are_recounted(database, world):
    """A Core UPDATE (the conditional claim) or a bulk removal passes no mapper event:
    ``recounted`` and ``count_cases`` keep the flows equal to the live figures."""
    from sqlalchemy import delete, update

    from cases.reports.flows import count_cases, recounted

    citizen = make_user(database, Role.CITIZEN)
    handler = make_user(database, Role.HANDLER, world.urban.id)
    case = make_case(database, citizen, world)
    set_case(database, case.number, department_id=world.urban.id)
    with database.app_context():
        with recounted([case.id]):
            db.session.execute(update(Case).where(Case.id == case.id)
                               .values(assignee_id=handler.id))
        db.session.commit()
        assert kept() == live()
        assert any(row[0] == "staff" and row[2] == handler.id for row in kept())
        count_cases([case.id], -1)
        db.session.execute(delete(Case).where(Case.id == case.id))
        db.session.commit()
        assert kept() == live()


def test_the_migration_fills_from_what_is_kept(database, desk):  # noqa: F811 (the fixture)
    """Migration 0016 adds the backlog's monthly rows from the daily flows, the answer
    durations from the cases and the durations' buckets and histograms from the kept
    durations: the same as recounting."""
    from sqlalchemy import delete, update

    from cases.reports.flows import fill_net_months

    with database.app_context():
        expected, expected_counts = kept(), kept_counts()
        assert any(row[3] == "net_month" for row in expected)
        db.session.execute(delete(DailyCaseFlow).where(DailyCaseFlow.fact == "net_month"))
        db.session.execute(update(ReportDuration).values(bucket=0))
        db.session.execute(delete(ReportDuration).where(ReportDuration.kind == "answer"))
        db.session.execute(delete(ReportDurationCount))
        assert fill_net_months(db.session.connection()) > 0
        duration_counts.fill_buckets(db.session.connection())
        assert timings.fill_answers(db.session.connection()) > 0
        duration_counts.rebuild()
        db.session.commit()
        assert kept() == expected == live()
        assert kept_counts() == expected_counts == counted_durations()
        assert kept_durations() == live_durations()


def test_migration_0024_fills_the_facts_per_month(database, desk):  # noqa: F811
    """Migration 0024 adds the additive facts' monthly rows from their daily rows: the
    same as recounting."""
    from sqlalchemy import delete

    from cases.reports.flows import MONTHLY, fill_fact_months

    with database.app_context():
        expected = kept()
        assert {row[3] for row in expected} >= set(MONTHLY.values())
        db.session.execute(delete(DailyCaseFlow).where(
            DailyCaseFlow.fact.in_(list(MONTHLY.values()))))
        assert fill_fact_months(db.session.connection()) > 0
        db.session.commit()
        assert kept() == expected == live()


def test_migration_0019_fills_the_ends_per_month(database, desk):  # noqa: F811 (the fixture)
    """Migration 0019 adds the ends per month of end and filing from the daily ends: the
    same as recounting, and whole months' "still open" from them equals the live count."""
    from sqlalchemy import delete

    from cases.reports.flows import fill_ended_months

    with database.app_context():
        expected = kept()
        assert any(row[3] == "ended_month" for row in expected)
        db.session.execute(delete(DailyCaseFlow).where(DailyCaseFlow.fact == "ended_month"))
        assert fill_ended_months(db.session.connection()) > 0
        db.session.commit()
        assert kept() == expected == live()
    with database.test_request_context():
        official = viewer(desk.official)
        for period in (MARCH, MARCH.previous(), Period.containing("quarter", MARCH.first),
                       Period.containing("year", MARCH.first)):
            for by in ("department", "category"):
                summed, counted = both_ways(period, by, official)
                assert summed == counted, (period, by)
