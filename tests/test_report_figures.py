"""The reports service against a hand-built month (March 2026, Asia/Shanghai).

Eight cases with known dates, deadlines, departments, sign-fors, answers and ratings; the
expected numbers are written out (docs/REPORTS.md, "Definitions", says why each is what it
is), never recomputed. U = 城市管理局 (urban), T = 交通运输局 (transport).

    A  U  dispatched 02 Mar 01:00, signed by u1 02:00 (due 03:00), answered 5th (due 10th),
          closed 6th 01:00 (96 h after filing); rated 5 / solved; a second answer defaulted
          to level 3 on the 20th
    B  U  dispatched 03 Mar 00:00, signed by u2 04:00 (due 02:00: late), answered 14th
          (due 12th: late); rated 2 / not solved
    C  U  dispatched 04 Mar 00:00, signed by u1 07:00 (due 08:00), no answer (due 20th:
          overdue); extension asked by u1
    D  T  dispatched 05 Mar 00:00, returned by t1 at 03:00 (now with the service centre)
    E  T  dispatched 06 Mar 01:00, signed by t1 02:00, answered 8th, sent back 9th, answered
          12th (due 20th); first rating (1) set aside on appeal, second 4 / partly solved
    F  U→T anonymous tip-off: dispatched to U 07 Mar 00:00, transferred to T 05:00, signed
          by t1 06:00 (due 07:00); answer due 5 April
    P  U  February: dispatched 10 Feb 01:00, signed by u1 03:00 (due 03:00), closed 16th;
          rated 4 / solved
    Y  U  March 2025: dispatched 10 Mar 01:00, signed by u2 05:00 (due 03:00), closed 14th;
          rated 1 / not solved
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseStatus
from cases.reports import figures
from cases.reports.periods import Period
from cases.reports.settings import report_settings
from cases.satisfaction.models import Rating
from cases.satisfaction.vocabulary import RatingStatus, Solved
from portal.db import db
from portal.models import Role, User
from tests.factories import make_case, make_user

MARCH = Period.month(2026, 3)


def at(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class Desk:
    urban: int
    transport: int
    u1: int
    u2: int
    t1: int
    head_u: int
    head_t: int
    official: int
    supervisor: int
    cases: dict  # letter → case id


def plant(case_id: int, columns: dict, steps: list, ratings: list) -> None:
    case = db.session.get(Case, case_id)
    for name, value in columns.items():
        setattr(case, name, value)
    for action, actor, moment, details in steps:
        db.session.add(CaseEvent(case_id=case_id, actor_id=actor, action=action,
                                 created_at=moment, details=details))
    for values in ratings:
        db.session.add(Rating(case_id=case_id, client_id=case.client_id,
                              nonce=secrets.token_hex(8), requested_at=values["rated_at"],
                              link_expires_at=values["rated_at"], **values))


@pytest.fixture
def desk(database, world) -> Desk:
    app = database
    U, T = world.urban.id, world.transport.id  # noqa: N806
    u1 = make_user(app, Role.HANDLER, U).id
    u2 = make_user(app, Role.HANDLER, U).id
    t1 = make_user(app, Role.HANDLER, T).id
    head_u = make_user(app, Role.DEPARTMENT_HEAD, U).id
    head_t = make_user(app, Role.DEPARTMENT_HEAD, T).id
    clerk = make_user(app, Role.CLERK).id
    supervisor = make_user(app, Role.SUPERVISOR).id
    official = make_user(app, Role.OFFICIAL).id
    owner = make_user(app, Role.CITIZEN)
    noise, holes = world.noise.id, world.potholes.id
    gulou, taijiang = world.gulou.id, world.taijiang.id
    ids = {letter: make_case(app, owner, world).id for letter in "ABCDEFPY"}

    def rating(level, solved, when, dep, by, status=RatingStatus.RATED, set_aside=False):
        return {"level": level, "solved": solved, "rated_at": when, "department_id": dep,
                "answered_by_id": by, "status": status, "set_aside": set_aside}

    def sent(dep, moment, action="dispatch"):
        return (action, clerk, moment, {"department": dep})

    with app.app_context():
        plant(ids["A"], dict(
            department_id=U, assignee_id=u1, category_id=noise, district_id=gulou,
            status=CaseStatus.CLOSED, created_at=at(3, 2, 1), dispatched_at=at(3, 2, 1),
            sign_due_at=at(3, 2, 3), signed_at=at(3, 2, 2), reply_due_at=at(3, 10),
            replied_at=at(3, 5), closed_at=at(3, 6, 1)),
            [sent(U, at(3, 2, 1)), ("sign_for", u1, at(3, 2, 2), None),
             ("reply", u1, at(3, 5), None), ("close", clerk, at(3, 6, 1), None)],
            [rating(5, Solved.YES, at(3, 7), U, u1),
             rating(3, None, at(3, 20), U, u1, RatingStatus.DEFAULTED)])
        plant(ids["B"], dict(
            department_id=U, assignee_id=u2, category_id=noise, district_id=gulou,
            status=CaseStatus.REPLIED, created_at=at(3, 3), dispatched_at=at(3, 3),
            sign_due_at=at(3, 3, 2), signed_at=at(3, 3, 4), reply_due_at=at(3, 12),
            replied_at=at(3, 14)),
            [sent(U, at(3, 3)), ("sign_for", u2, at(3, 3, 4), None),
             ("reply", u2, at(3, 14), None)],
            [rating(2, Solved.NO, at(3, 15), U, u2)])
        plant(ids["C"], dict(
            department_id=U, assignee_id=u1, category_id=noise, district_id=taijiang,
            status=CaseStatus.IN_PROGRESS, created_at=at(3, 4), dispatched_at=at(3, 4),
            sign_due_at=at(3, 4, 8), signed_at=at(3, 4, 7), reply_due_at=at(3, 20)),
            [sent(U, at(3, 4)), ("sign_for", u1, at(3, 4, 7), None),
             ("extension", u1, at(3, 15), {"days": 5})], [])
        plant(ids["D"], dict(
            department_id=None, assignee_id=None, category_id=holes, district_id=gulou,
            status=CaseStatus.ACCEPTED, created_at=at(3, 5), dispatched_at=at(3, 5),
            sign_due_at=at(3, 5, 2)),
            [sent(T, at(3, 5)), ("return", t1, at(3, 5, 3), None)], [])
        plant(ids["E"], dict(
            department_id=T, assignee_id=t1, category_id=holes, district_id=taijiang,
            status=CaseStatus.REPLIED, created_at=at(3, 6, 1), dispatched_at=at(3, 6, 1),
            sign_due_at=at(3, 6, 3), signed_at=at(3, 6, 2), reply_due_at=at(3, 20),
            replied_at=at(3, 12), redo_count=1),
            [sent(T, at(3, 6, 1)), ("sign_for", t1, at(3, 6, 2), None),
             ("reply", t1, at(3, 8), None), ("redo", supervisor, at(3, 9), None),
             ("reply", t1, at(3, 12), None)],
            [rating(1, Solved.NO, at(3, 9), T, t1, set_aside=True),
             rating(4, Solved.PARTLY, at(3, 13), T, t1)])
        plant(ids["F"], dict(
            department_id=T, assignee_id=t1, category_id=noise, district_id=gulou,
            status=CaseStatus.IN_PROGRESS, anonymous=True, created_at=at(3, 7),
            dispatched_at=at(3, 7), sign_due_at=at(3, 7, 7), signed_at=at(3, 7, 6),
            reply_due_at=at(4, 5), departments_passed=2),
            [sent(U, at(3, 7)), sent(T, at(3, 7, 5), "transfer"),
             ("sign_for", t1, at(3, 7, 6), None)], [])
        plant(ids["P"], dict(
            department_id=U, assignee_id=u1, category_id=noise, district_id=gulou,
            status=CaseStatus.CLOSED, created_at=at(2, 10, 1), dispatched_at=at(2, 10, 1),
            sign_due_at=at(2, 10, 3), signed_at=at(2, 10, 3), reply_due_at=at(2, 20),
            replied_at=at(2, 15), closed_at=at(2, 16, 1)),
            [sent(U, at(2, 10, 1)), ("sign_for", u1, at(2, 10, 3), None),
             ("reply", u1, at(2, 15), None)],
            [rating(4, Solved.YES, at(2, 17), U, u1)])
        plant(ids["Y"], dict(
            department_id=U, assignee_id=u2, category_id=noise, district_id=gulou,
            status=CaseStatus.CLOSED, created_at=at(3, 10, 1, 2025),
            dispatched_at=at(3, 10, 1, 2025), sign_due_at=at(3, 10, 3, 2025),
            signed_at=at(3, 10, 5, 2025), reply_due_at=at(3, 20, 0, 2025),
            replied_at=at(3, 12, 0, 2025), closed_at=at(3, 14, 1, 2025)),
            [sent(U, at(3, 10, 1, 2025)), ("sign_for", u2, at(3, 10, 5, 2025), None),
             ("reply", u2, at(3, 12, 0, 2025), None)],
            [rating(1, Solved.NO, at(3, 13, 0, 2025), U, u2)])
        db.session.commit()
    return Desk(U, T, u1, u2, t1, head_u, head_t, official, supervisor, ids)


def viewer(user_id: int) -> User:
    return db.session.get(User, user_id)


def row(table, key):
    return next(r for r in table.rows if r.key == key)


def values(table, key, *columns):
    found = row(table, key)
    return tuple(found[c].value for c in columns)


def numbers(select_cases) -> set[int]:
    return set(db.session.scalars(select_cases.with_only_columns(Case.id)))


# --- workload ------------------------------------------------------------------------


def test_workload_by_department(database, desk):
    with database.app_context():
        table = figures.workload(MARCH, viewer(desk.official))
        assert [r.key for r in table.rows] == [desk.urban, desk.transport] or \
            {r.key for r in table.rows} == {desk.urban, desk.transport}
        urban = row(table, desk.urban)
        # received: A, B, C, F dispatched to U; open and backlog: B, C; closed: A;
        # overdue: B (answered late), C (no answer by the 20th)
        assert values(table, desk.urban, "received", "open", "backlog", "closed", "overdue") \
            == (4, 2, 2, 1, 2)
        # signed for after 1 h (A), 4 h (B), 7 h (C)
        assert urban["sign_median_hours"].value == 4.0
        assert urban["sign_p90_hours"].value == 7.0
        assert urban["close_median_hours"].value == 96.0
        assert urban["on_time_rate"].value == 0.5  # A on time, B late
        assert urban["redo_rate"].value == 0.0
        assert urban["return_rate"].value == 0.0
        assert urban["transfers"].value == 1  # F left U for T
        assert urban["extensions"].value == 1  # C
        # T: D, E, F received; D returned (1/3); E sent back once (1 of 1 answered case)
        assert values(table, desk.transport, "received", "open", "closed", "overdue") \
            == (3, 2, 0, 0)
        transport = row(table, desk.transport)
        assert transport["return_rate"].value == pytest.approx(1 / 3)
        assert transport["redo_rate"].value == 1.0
        assert transport["on_time_rate"].value == 1.0
        assert transport["sign_median_hours"].value == 1.0  # E 1 h, F 1 h after the transfer
        assert transport["transfers"].value == 0
        # February: P only; March 2025: Y only
        assert (urban["received"].previous, urban["closed"].previous) == (1, 1)
        assert urban["sign_median_hours"].previous == 2.0
        assert urban["received"].year_before == 1
        assert urban["sign_median_hours"].year_before == 4.0
        assert urban["received"].change == 3
        assert table.total["received"].value == 7
        assert table.total["sign_median_hours"].value == 1.0  # 1, 4, 7, 1, 1


def test_workload_by_category_district_and_staff(database, desk):
    with database.app_context():
        official = viewer(desk.official)
        by_category = figures.workload(MARCH, official, by="category")
        noise = next(r for r in by_category.rows if r["received"].value == 4)
        assert noise["overdue"].value == 2  # B, C
        by_district = figures.workload(MARCH, official, by="district")
        assert sorted(r["received"].value for r in by_district.rows) == [2, 4]
        staff = figures.workload(MARCH, official, by="staff")
        assert {r.key for r in staff.rows} == {desk.u1, desk.u2, desk.t1}
        # u1 signed for A and C (1 h, 7 h), answered A on time, asked the extension on C
        assert values(staff, desk.u1, "received", "open", "closed", "overdue", "extensions") \
            == (2, 1, 1, 1, 1)
        assert values(staff, desk.u1, "sign_median_hours", "on_time_rate") == (4.0, 1.0)
        assert values(staff, desk.t1, "received", "return_rate", "redo_rate") == (2, 0.5, 1.0)


def test_workload_scope(database, desk):
    with database.app_context():
        head = figures.workload(MARCH, viewer(desk.head_u))
        assert [r.key for r in head.rows] == [desk.urban]
        assert head.rows[0]["received"].value == 4
        staff = figures.workload(MARCH, viewer(desk.head_u), by="staff")
        assert {r.key for r in staff.rows} == {desk.u1, desk.u2}
        by_category = figures.workload(MARCH, viewer(desk.head_u), by="category")
        assert sum(r["received"].value for r in by_category.rows) == 3  # A, B, C are U's now
        mine = figures.workload(MARCH, viewer(desk.u1), by="staff")
        assert [r.key for r in mine.rows] == [desk.u1]
        own = figures.workload(MARCH, viewer(desk.u1))
        assert [r.key for r in own.rows] == [desk.urban]
        assert own.rows[0]["received"].value == 2  # A and C, the cases u1 holds


# --- 三率, composite, ranking --------------------------------------------------------


def test_three_rates(database, desk):
    with database.app_context():
        table = figures.three_rates(MARCH, viewer(desk.official))
        urban, transport = row(table, desk.urban), row(table, desk.transport)
        # response: A and C signed in time, B late, F never signed by U: 2/4
        assert (urban["response_n"].value, urban["response_d"].value) == (2, 4)
        # resolution: A solved, B not (the defaulted rating answers nothing): 1/2
        assert (urban["resolution_n"].value, urban["resolution_d"].value) == (1, 2)
        # satisfaction: 5, 2 and the defaulted 3: 2/3
        assert (urban["satisfaction_n"].value, urban["satisfaction_d"].value) == (2, 3)
        # 100 − 30 × 1/2 − 35 × 1/2 − 35 × 1/3
        assert urban["composite"].value == 55.83
        # T: D never signed for, E and F in time: 2/3; E's set-aside 1 never counts
        assert (transport["response_n"].value, transport["response_d"].value) == (2, 3)
        assert (transport["resolution_n"].value, transport["resolution_d"].value) == (0, 1)
        assert (transport["satisfaction_n"].value, transport["satisfaction_d"].value) == (1, 1)
        assert transport["composite"].value == 55.0
        assert urban["composite"].previous == 100.0  # P: all in time, solved, level 4
        assert urban["composite"].year_before == 0.0  # Y: late, unsolved, level 1
        assert transport["composite"].previous is None
        assert table.column("response").definition
        # the city: response 4/7, resolution 1/3, satisfaction 3/4
        assert (table.total["satisfaction_n"].value, table.total["satisfaction_d"].value) \
            == (3, 4)


def test_settings_change_the_rates(database, desk):
    with database.app_context():
        settings = report_settings()
        settings.partly_counts_as_solved = True
        settings.count_defaulted = False
        settings.satisfied_from_level = 4
        db.session.flush()
        table = figures.three_rates(MARCH, viewer(desk.official))
        urban, transport = row(table, desk.urban), row(table, desk.transport)
        assert (urban["satisfaction_n"].value, urban["satisfaction_d"].value) == (1, 2)
        assert (transport["resolution_n"].value, transport["resolution_d"].value) == (1, 1)
        assert transport["composite"].value == 90.0  # only the response rate loses: 10
        assert urban["composite"].value == 50.0


def test_ranking(database, desk):
    with database.app_context():
        ranking = figures.ranking(MARCH, viewer(desk.official))
        assert [r.key for r in ranking.table.rows] == [desk.urban, desk.transport]
        assert [r.key for r in ranking.red_list] == [desk.urban]
        assert [r.key for r in ranking.black_list] == [desk.transport]
        urban = ranking.table.rows[0]
        assert urban["rank"].value == 1 and urban["rank"].previous == 1
        assert urban["lost_satisfaction"].value == 11.67  # 35 × (1 − 2/3)
        assert urban["lost_total"].value == 44.17
        losses = ranking.losses[desk.urban]
        assert [loss.rate for loss in losses] == ["resolution", "response", "satisfaction"]
        assert losses[2].text().endswith("66.7% → −11.67")
        transport = ranking.losses[desk.transport]
        assert transport[0].rate == "resolution" and transport[0].points == 35.0
        head = figures.ranking(MARCH, viewer(desk.head_t))
        assert [r.key for r in head.table.rows] == [desk.transport]
        assert head.own_rank == 2 and head.red_list == [] and head.black_list == []
        assert figures.ranking(MARCH, viewer(desk.u1)).table.rows == []


def test_rates_scope(database, desk):
    with database.app_context():
        head = figures.three_rates(MARCH, viewer(desk.head_u))
        assert [r.key for r in head.rows] == [desk.urban] and head.total is None
        mine = figures.three_rates(MARCH, viewer(desk.u2))
        assert [r.key for r in mine.rows] == [desk.urban]
        # u2 holds B: dispatched once, signed late; rated 2, not solved
        assert (mine.rows[0]["response_n"].value, mine.rows[0]["response_d"].value) == (0, 1)
        assert mine.rows[0]["satisfaction_d"].value == 1


# --- drill-down ----------------------------------------------------------------------


def test_drill_down(database, desk):
    c = desk.cases
    with database.app_context():
        official, supervisor = viewer(desk.official), viewer(desk.supervisor)
        assert numbers(figures.drill_down(MARCH, "received", desk.urban, official)) \
            == {c["A"], c["B"], c["C"]}  # F is an anonymous tip-off: its filer is hidden
        assert numbers(figures.drill_down(MARCH, "received", desk.urban, supervisor)) \
            == {c["A"], c["B"], c["C"], c["F"]}
        assert numbers(figures.drill_down(MARCH, "overdue", desk.urban, official)) \
            == {c["B"], c["C"]}
        assert numbers(figures.drill_down(MARCH, "transfers", desk.urban, supervisor)) \
            == {c["F"]}
        assert numbers(figures.drill_down(MARCH, "return", desk.transport, official)) \
            == {c["D"]}
        assert numbers(figures.drill_down(MARCH, "bad_ratings", desk.urban, official)) \
            == {c["B"]}
        assert numbers(figures.drill_down(MARCH, "responded", desk.urban, official)) \
            == {c["A"], c["C"]}
        assert numbers(figures.drill_down(MARCH, "redo", desk.transport, official)) \
            == {c["E"]}
        assert numbers(figures.drill_down(MARCH, "received", None, official, by="category")) \
            == {c[x] for x in "ABCDE"}
        # scope: a head of T reads no U cell; D (returned) is no longer T's to open
        assert numbers(figures.drill_down(MARCH, "received", desk.urban, viewer(desk.head_t))) \
            == set()
        assert numbers(figures.drill_down(MARCH, "received", desk.transport,
                                          viewer(desk.head_t))) == {c["E"]}
        # a handler: their own cases only
        assert numbers(figures.drill_down(MARCH, "received", desk.urban, viewer(desk.u1))) \
            == {c["A"], c["C"]}
        with pytest.raises(figures.FigureError):
            figures.drill_down(MARCH, "salaries", desk.urban, official)


def test_one_query_per_figure_family(database, desk):
    """A page costs a fixed number of queries, not one per row."""
    from sqlalchemy import event

    with database.app_context():
        official = viewer(desk.official)
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            figures.workload(MARCH, official, by="staff")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(seen) <= 14  # 4 per period + the labels (+ settings)
        assert db.session.scalar(select(Case.id).limit(1))

