"""Numbers beyond what the database stores are a 4xx, never a 500 (#8).

Every route with an ``int`` part, every id or page in a query string, every id in a form.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.models import Case, CaseStatus, Category
from citizens.models import Client
from portal.db import db
from portal.models import Role
from tests.conftest import csrf_token, submit
from tests.factories import make_case, make_user
from tests.test_cases import filing_data
from tests.test_reply_templates import make_template

HUGE = "99999999999999999999"  # > 2**63 - 1
RULE_PART = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def int_routes(app) -> list[tuple[str, str]]:
    """(method, url) for every rule with an int part, each int part set to HUGE."""
    found = []
    for rule in app.url_map.iter_rules():
        if not any(converter == "int" for converter, _ in RULE_PART.findall(rule.rule)):
            continue
        url = RULE_PART.sub(lambda m: HUGE if m.group(1) == "int" else "2026-000001", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((method, url))
    return found


@pytest.mark.parametrize("who", [None, Role.ADMIN, Role.CLERK, Role.HANDLER, Role.CITIZEN])
def test_every_int_route_with_a_huge_id_is_not_found(app, client, login_as, world, who):
    routes = int_routes(app)
    assert len(routes) >= 20
    if who is not None:
        login_as(who)
    token = csrf_token(client, "/login" if who is None else "/")
    for method, url in routes:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (who, method, url)


@pytest.fixture
def cast(database, world):
    citizen = make_user(database, Role.CITIZEN)
    case = make_case(database, citizen, world)
    with database.app_context():
        client_id = db.session.scalar(select(Client.id))
    return {"case": case.number, "case_id": case.id, "client": client_id, "citizen": citizen}


def test_huge_query_string_numbers_are_a_bad_request(client, login_as, cast):
    login_as(Role.ADMIN)
    urls = [
        "/clients?page={h}", "/clients?district={h}", "/clients/duplicates?page={h}",
        "/clients/{c}?page={h}", "/clients/{c}?contacts_page={h}", "/clients/{c}/merge?other={h}",
        "/queues/unassigned?page={h}", "/queues/unassigned?category={h}",
        "/queues/overdue?district={h}", "/inbox?page={h}", "/admin/users?page={h}",
        "/admin/categories/new?parent={h}", "/admin/calendar?year={h}", "/intake/new?client={h}",
        "/queues/unassigned?page=-{h}", "/clients?page=1000000001",
    ]
    for url in urls:
        url = url.format(h=HUGE, c=cast["client"])
        response = client.get(url)
        assert response.status_code == 400, url
        assert "请求有误" in response.get_data(as_text=True)  # the localised 400 page
    # Garbage and small numbers keep their old meaning: the default.
    for url in ("/clients?page=abc", "/clients?page=0", "/queues/unassigned?category=x"):
        assert client.get(url).status_code == 200, url


def test_a_citizens_page_number_too(client, login_as, world):
    login_as(Role.CITIZEN)
    assert client.get(f"/requests?page={HUGE}").status_code == 400
    assert client.get("/requests?page=2").status_code == 200


def test_huge_ids_in_bulk_forms_change_nothing(client, login_as, world, database, cast):
    template_id = make_template(database)
    login_as(Role.CLERK)
    for action, data in [
        ("dispatch", {"cases": [HUGE, str(cast["case_id"])], "department": str(world.urban.id)}),
        ("dispatch", {"cases": [str(cast["case_id"])], "department": HUGE}),
        ("reply", {"cases": [HUGE], "template": str(template_id)}),
        ("reply", {"cases": [str(cast["case_id"])], "template": HUGE}),
    ]:
        response = submit(client, "/queues/unassigned", data,
                          action=f"/queues/unassigned/{action}")
        assert response.status_code == 303, (action, data)  # back to the queue, with a message
    with database.app_context():
        assert db.session.scalar(select(Case.status)) == CaseStatus.SUBMITTED


def test_huge_ids_in_forms_are_form_errors(client, login_as, world, database, cast):
    login_as(Role.CLERK)
    number = cast["case"]
    for action, data in [
        ("dispatch", {"department": HUGE}),
        ("assist", {"assisting": HUGE}),
        ("classify", {"category": HUGE}),
        ("extension", {"days": HUGE, "note": "需要时间"}),
        ("answer", {"template": HUGE}),
    ]:
        response = submit(client, f"/cases/{number}", data, action=f"/cases/{number}/{action}")
        assert response.status_code == 422, action
    with database.app_context():
        assert db.session.scalar(select(Case.status)) == CaseStatus.SUBMITTED
    login_as(Role.ADMIN)
    posts = [
        ("/intake/new", filing_data(world, client_id=HUGE, new_name="")),
        (f"/clients/{cast['client']}/merge", {"other": HUGE, "reason": "同一人"}),
        ("/admin/categories/new", {"parent_id": HUGE, "code": "big", "name_zh": "大",
                                   "department_id": HUGE, "position": HUGE,
                                   "sign_amount": HUGE, "sign_unit": "days",
                                   "reply_amount": "10", "reply_unit": "days"}),
        ("/admin/users/new", {"username": "bignum", "display_name": "大数", "role": "clerk",
                              "department": HUGE, "password": "a-long-password-1"}),
        ("/reply-templates/new", {"title": "模板", "body": "您好", "department": HUGE}),
    ]
    for url, data in posts:
        response = submit(client, url, data)
        assert response.status_code == 422, url
    response = submit(client, "/admin/calendar", {"year": HUGE}, action="/admin/calendar/publish")
    assert response.status_code == 400
    with database.app_context():
        assert db.session.scalar(select(Category).where(Category.code == "big")) is None
    login_as(Role.CITIZEN)
    for field in ("category", "district"):
        response = submit(client, "/requests/new", filing_data(world, **{field: HUGE}))
        assert response.status_code == 422, field
    response = submit(client, "/inbox", {"page": HUGE}, action="/inbox/1/read")
    assert response.status_code == 400
