"""Staff queues: membership, scope, filters, sorting, pagination and bulk dispatch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.models import Case, CaseStatus, Priority
from portal.db import db, utcnow
from portal.models import Role
from tests.conftest import csrf_token, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_sweep import set_case


@pytest.fixture
def board(database, world):
    """Cases in every queue's shape; returns their numbers by name."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id,
                        username="urban-handler")
    other = make_user(database, Role.HANDLER, department_id=world.transport.id)
    supervisor = make_user(database, Role.SUPERVISOR)
    n = {}
    n["intake"] = make_case(database, citizen, world, title="待受理的诉求").number
    n["urban_new"] = make_case(database, citizen, world, title="城管新派单").number
    step(database, n["urban_new"], "dispatch", clerk, department=world.urban.id)
    n["urban_mine"] = make_case(database, citizen, world, title="我正在办的").number
    step(database, n["urban_mine"], "dispatch", clerk, department=world.urban.id)
    step(database, n["urban_mine"], "sign_for", handler)
    n["urban_waiting"] = make_case(database, citizen, world, title="等待补充材料").number
    step(database, n["urban_waiting"], "dispatch", clerk, department=world.urban.id)
    step(database, n["urban_waiting"], "sign_for", handler)
    step(database, n["urban_waiting"], "request_info", handler, note="请补充")
    n["transport"] = make_case(database, citizen, world, title="交通局的诉求").number
    step(database, n["transport"], "dispatch", clerk, department=world.transport.id)
    step(database, n["transport"], "sign_for", other)
    step(database, n["transport"], "supervise", supervisor)
    now = utcnow()
    # Due soon: the deadline's own warning time (``due_soon_at``) has come.
    set_case(database, n["urban_new"], due_at=now + timedelta(hours=3),
             due_soon_at=now - timedelta(minutes=1))
    set_case(database, n["urban_mine"], due_at=now - timedelta(hours=3), priority=Priority.URGENT)
    set_case(database, n["transport"], due_at=now - timedelta(hours=1))
    return n


def listed(client, url):
    html = client.get(url).get_data(as_text=True)
    return html


QUEUES_FOR_HANDLER = {
    "mine": {"urban_mine", "urban_waiting"},
    "department": {"urban_new", "urban_mine", "urban_waiting"},
    "unassigned": {"urban_new"},
    "due-soon": {"urban_new"},
    "overdue": {"urban_mine"},
    "waiting": {"urban_waiting"},
    "supervised": set(),
}


@pytest.mark.parametrize(("name", "expected"), QUEUES_FOR_HANDLER.items())
def test_department_handler_queues(client, database, board, name, expected):
    from tests.conftest import sign_in

    sign_in(client, "urban-handler")
    html = listed(client, f"/queues/{name}")
    shown = {key for key, number in board.items() if number in html}
    assert shown == expected


def test_intake_queues_see_the_whole_city(client, login_as, board):
    login_as(Role.CLERK)
    unassigned = listed(client, "/queues/unassigned")
    assert board["intake"] in unassigned and board["urban_new"] not in unassigned
    overdue = listed(client, "/queues/overdue")
    assert board["urban_mine"] in overdue and board["transport"] in overdue
    assert board["transport"] in listed(client, "/queues/supervised")
    assert client.get("/queues/department").status_code == 404  # clerks have no department


def test_filters_and_sort(client, login_as, board, world):
    login_as(Role.SUPERVISOR)
    urgent = listed(client, "/queues/overdue?priority=urgent")
    assert board["urban_mine"] in urgent and board["transport"] not in urgent
    assert '<option value="urgent" selected>' in urgent  # the form keeps the filter
    by_district = listed(client, f"/queues/overdue?district={world.taijiang.id}")
    assert board["urban_mine"] not in by_district
    due_first = listed(client, "/queues/overdue?sort=due")
    assert due_first.index(board["urban_mine"]) < due_first.index(board["transport"])
    newest = listed(client, "/queues/overdue?sort=newest")
    assert newest.index(board["transport"]) < newest.index(board["urban_mine"])
    assert client.get("/queues/overdue?sort=bogus&priority=x&category=y").status_code == 200


def test_queues_paginate(client, login_as, database, world):
    citizen = make_user(database, Role.CITIZEN)
    for i in range(25):
        make_case(database, citizen, world, title=f"分页测试{i:02d}")
    login_as(Role.CLERK)
    first = listed(client, "/queues/unassigned?sort=oldest")
    assert "分页测试00" in first and "分页测试24" not in first and 'rel="next"' in first
    assert "分页测试24" in listed(client, "/queues/unassigned?sort=oldest&page=2")


def test_officials_and_clients_have_no_queues(client, login_as, world):
    login_as(Role.OFFICIAL)
    assert client.get("/queues/overdue").status_code == 403
    login_as(Role.CITIZEN)
    assert client.get("/queues/mine").status_code == 403


def test_bulk_dispatch(client, login_as, database, world):
    citizen = make_user(database, Role.CITIZEN)
    cases = [make_case(database, citizen, world) for _ in range(3)]
    login_as(Role.CLERK)
    response = submit(client, "/queues/unassigned", {
        "cases": [str(c.id) for c in cases[:2]], "department": str(world.urban.id),
    }, action="/queues/unassigned/dispatch")
    assert response.status_code == 302
    with database.app_context():
        stored = {c.number: c for c in db.session.scalars(select(Case))}
        assert stored[cases[0].number].status == CaseStatus.DISPATCHED
        assert stored[cases[1].number].department_id == world.urban.id
        assert stored[cases[2].number].status == CaseStatus.SUBMITTED


def test_bulk_dispatch_is_all_or_nothing(client, login_as, database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    fresh = make_case(database, citizen, world)
    done = make_case(database, citizen, world)
    step(database, done.number, "dispatch", clerk, department=world.transport.id)
    login_as(Role.CLERK)
    response = submit(client, "/queues/unassigned", {
        "cases": [str(fresh.id), str(done.id)], "department": str(world.urban.id),
    }, action="/queues/unassigned/dispatch")
    assert response.status_code == 303
    with database.app_context():
        assert db.session.get(Case, fresh.id).status == CaseStatus.SUBMITTED
        assert db.session.get(Case, done.id).department_id == world.transport.id


def test_bulk_dispatch_needs_a_department_and_intake_role(client, login_as, database, world):
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world)
    login_as(Role.CLERK)
    token = csrf_token(client, "/queues/unassigned")
    response = client.post("/queues/unassigned/dispatch",
                           data={"csrf_token": token, "cases": [str(case.id)], "department": ""})
    assert response.status_code == 303
    login_as(Role.HANDLER)
    token = csrf_token(client, "/")
    response = client.post("/queues/unassigned/dispatch",
                           data={"csrf_token": token, "cases": [str(case.id)],
                                 "department": str(world.urban.id)})
    assert response.status_code == 403
    with database.app_context():
        assert db.session.get(Case, case.id).status == CaseStatus.SUBMITTED
