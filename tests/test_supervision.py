"""The supervisor's list (/supervision): pending extension requests, escalated cases,
supervised cases near their deadline; its count in the navigation; who may open it."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.db import db, utcnow
from portal.models import Role
from tests.factories import make_case, make_user
from tests.test_lifecycle import step
from tests.test_sweep import set_case


def in_progress(database, world, citizen, clerk, handler, title):
    number = make_case(database, citizen, world, title=title).number
    step(database, number, "dispatch", clerk, department=world.urban.id)
    step(database, number, "sign_for", handler)
    return number


@pytest.fixture
def waiting(database, world):
    """One case of each kind the list shows, and some it must not; numbers by name."""
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    supervisor = make_user(database, Role.SUPERVISOR)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id,
                        display_name="申请人老李")
    n = {key: in_progress(database, world, citizen, clerk, handler, f"督办清单{key}")
         for key in ("extension", "decided", "escalated", "near", "far", "plain")}
    step(database, n["extension"], "extension", handler, days=5, note="需要协调施工单位")
    step(database, n["decided"], "extension", handler, days=2, note="已决定的申请")
    step(database, n["decided"], "decide_extension", supervisor, approve=True)
    now = utcnow()
    set_case(database, n["escalated"], supervised=True, escalated_at=now - timedelta(hours=1),
             escalation_reason="redone")
    for key in ("near", "far"):
        step(database, n[key], "supervise", supervisor)
    set_case(database, n["near"], due_at=now + timedelta(hours=5),
             due_soon_at=now - timedelta(hours=1))
    set_case(database, n["far"], due_at=now + timedelta(days=5),
             due_soon_at=now + timedelta(days=4))
    set_case(database, n["plain"], due_at=now + timedelta(hours=1),
             due_soon_at=now - timedelta(hours=1))  # near, but not supervised
    return n


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_the_list_shows_what_waits(client, login_as, waiting, role):
    login_as(role, locale="en")
    response = client.get("/supervision")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = {key for key, number in waiting.items() if number in html}
    assert shown == {"extension", "escalated", "near"}
    # The extension request: days asked, reason, who, a link to the case page to decide.
    assert "需要协调施工单位" in html and "申请人老李" in html
    assert f'href="/cases/{waiting["extension"]}"' in html
    assert "Urban Management Bureau" in html
    assert "Sent back to redo too often" in html
    # The navigation counts what waits, and leads here from every page.
    home = client.get("/").get_data(as_text=True)
    assert 'href="/supervision"' in home and "Supervision (3 waiting)" in home


@pytest.mark.parametrize("role", [Role.CLERK, Role.HANDLER, Role.DEPARTMENT_HEAD,
                                  Role.OFFICIAL, Role.CITIZEN])
def test_others_may_not_open_it(client, login_as, waiting, role):
    login_as(role)
    assert client.get("/supervision").status_code == 403
    assert 'href="/supervision"' not in client.get("/").get_data(as_text=True)


def test_anonymous_goes_to_sign_in(client, world):
    response = client.get("/supervision")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@contextmanager
def counted_queries(app):
    count = [0]

    def before(*_args, **_kw):
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_list_costs_the_same_queries_for_more_rows(client, login_as, database, world):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)

    def add(count):
        for i in range(count):
            number = in_progress(database, world, citizen, clerk, handler, f"查询数{i}")
            asker = make_user(database, Role.HANDLER, department_id=world.urban.id)
            step(database, number, "extension", asker, days=1, note="理由")
            set_case(database, number, supervised=True, escalated_at=utcnow())

    login_as(Role.SUPERVISOR)
    add(1)
    with counted_queries(database) as one:
        assert client.get("/supervision").status_code == 200
    add(4)
    with counted_queries(database) as five:
        assert client.get("/supervision").status_code == 200
    assert five[0] == one[0]
