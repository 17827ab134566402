"""The service centre's "answered" queue (cases the departments replied to) and bulk close;
the "due soon" queue read from ``Case.due_soon_at``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.models import Case, CaseStatus
from portal.db import db, utcnow
from portal.models import Role
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_sweep import set_case


@pytest.fixture
def answered(database, world):
    """Two cases replied by the urban department (the older reply first), one in progress,
    one answered at intake; returns their numbers by name."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id,
                        username="urban-replier")
    n = {}
    for key in ("old", "new", "working"):
        n[key] = make_case(database, citizen, world, title=f"答复队列{key}").number
        step(database, n[key], "dispatch", clerk, department=world.urban.id)
        step(database, n[key], "sign_for", handler)
    step(database, n["old"], "reply", handler, note="已处理完毕")
    step(database, n["new"], "reply", handler, note="已安排维修")
    n["at_intake"] = make_case(database, citizen, world, title="答复队列intake").number
    step(database, n["at_intake"], "answer", clerk, note="已当场答复")
    now = utcnow()
    set_case(database, n["old"], replied_at=now - timedelta(days=3))
    set_case(database, n["new"], replied_at=now - timedelta(hours=2))
    set_case(database, n["at_intake"], replied_at=now - timedelta(days=1))
    return n


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.CLERK, Role.SUPERVISOR, Role.ADMIN])
def test_intake_staff_find_answered_cases_oldest_reply_first(client, login_as, answered, world,
                                                             role):
    login_as(role, locale="en")
    html = page(client, "/queues/answered")
    assert answered["working"] not in html
    # The oldest reply first; each row says which department replied and when.
    order = [html.index(answered[k]) for k in ("old", "at_intake", "new")]
    assert order == sorted(order)
    assert "Urban Management Bureau" in html and "Service centre" in html
    assert "Replied on" in html and "3 days ago" in html
    # The queue is one of the intake tabs, and offers to close the cases at once.
    assert 'href="/queues/answered"' in page(client, "/queues/unassigned")
    assert 'action="/queues/answered/close"' in html


@pytest.mark.parametrize("role", [Role.HANDLER, Role.DEPARTMENT_HEAD])
def test_department_staff_do_not_get_the_answered_queue(client, login_as, answered, role):
    login_as(role)
    assert client.get("/queues/answered").status_code == 403
    assert 'href="/queues/answered"' not in page(client, "/queues/mine")
    token = csrf_token(client, "/queues/mine")
    response = client.post("/queues/answered/close", data={"csrf_token": token, "cases": "1"})
    assert response.status_code == 403


def ids_of(database, *numbers):
    with database.app_context():
        return [str(db.session.scalar(select(Case.id).where(Case.number == n)))
                for n in numbers]


def statuses(database, *numbers):
    with database.app_context():
        return [db.session.scalar(select(Case.status).where(Case.number == n)) for n in numbers]


def test_bulk_close(client, login_as, answered, database):
    login_as(Role.CLERK, locale="en")
    response = submit(client, "/queues/answered",
                      {"cases": ids_of(database, answered["old"], answered["at_intake"]),
                       "note": "感谢您的反馈"},
                      action="/queues/answered/close")
    assert response.status_code == 302
    assert statuses(database, answered["old"], answered["at_intake"], answered["new"]) == [
        CaseStatus.CLOSED, CaseStatus.CLOSED, CaseStatus.REPLIED]
    html = page(client, "/queues/answered")
    assert "2 cases closed." in html
    assert answered["old"] not in html and answered["new"] in html


def test_bulk_close_is_all_or_nothing(client, login_as, answered, database):
    login_as(Role.SUPERVISOR, locale="en")
    response = submit(client, "/queues/answered",
                      {"cases": ids_of(database, answered["old"], answered["working"])},
                      action="/queues/answered/close")
    assert response.status_code == 409
    assert "Nothing was closed" in response.get_data(as_text=True)
    assert statuses(database, answered["old"], answered["working"]) == [
        CaseStatus.REPLIED, CaseStatus.IN_PROGRESS]


@pytest.mark.parametrize("cases", [[], ["abc"], ["999999"]])
def test_bulk_close_refuses_bad_input_with_a_message(client, login_as, answered, database,
                                                     cases):
    login_as(Role.CLERK, locale="en")
    response = submit(client, "/queues/answered", {"cases": cases},
                      action="/queues/answered/close")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose the answered cases to close." in html or "do not exist" in html
    assert statuses(database, answered["old"], answered["new"]) == [CaseStatus.REPLIED] * 2


def test_bulk_close_needs_the_csrf_token(client, login_as, answered, database):
    login_as(Role.CLERK)
    response = client.post("/queues/answered/close",
                           data={"cases": ids_of(database, answered["old"])})
    assert response.status_code == 400
    assert statuses(database, answered["old"]) == [CaseStatus.REPLIED]


# --- "due soon" is the deadline's own warning window -----------------------------


def test_due_soon_queue_reads_the_warning_time_of_each_deadline(client, database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK, username="due-soon-clerk")
    now = utcnow()
    shapes = {
        # a long deadline, warned a day ahead, 20 hours left: due soon
        "warned": dict(due_at=now + timedelta(hours=20), due_soon_at=now - timedelta(hours=4)),
        # a 2-hour deadline 23 seconds old: not yet (a fixed 24-hour window said "due soon")
        "fresh": dict(due_at=now + timedelta(hours=2) - timedelta(seconds=23),
                      due_soon_at=now + timedelta(hours=1, minutes=30)),
        # past its deadline: overdue, not due soon
        "late": dict(due_at=now - timedelta(minutes=5), due_soon_at=now - timedelta(hours=2)),
    }
    numbers = {}
    for key, values in shapes.items():
        numbers[key] = make_case(database, citizen, world, title=f"临期{key}").number
        step(database, numbers[key], "dispatch", clerk, department=world.urban.id)
        set_case(database, numbers[key], **values)
    sign_in(client, "due-soon-clerk")
    html = page(client, "/queues/due-soon")
    assert {k for k, n in numbers.items() if n in html} == {"warned"}
