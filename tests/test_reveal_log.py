"""The access log made visible (issue 10 #16): a page per client for supervisors and admins,
and the client's own data export saying who looked at their data, when and why.
"""

from __future__ import annotations

import json

import pytest

from cases.models import CaseEvent
from citizens.models import RevealLog
from citizens.services import reveal_field
from portal.db import db
from portal.models import Role, User
from tests.conftest import csrf_token, sign_in
from tests.factories import make_case, make_user

PHONE = "13911112222"


@pytest.fixture
def record(database, world):
    """A citizen with an account, whose phone a handler of ``urban`` revealed."""
    citizen = make_user(database, Role.CITIZEN, username="citizen_ma", name="马大姐",
                        phone=PHONE)
    handler = make_user(database, Role.HANDLER, world.urban.id, username="handler_niu",
                        display_name="牛办理")
    with database.app_context():
        client = db.session.get(User, citizen.id).client
        reveal_field(client, db.session.get(User, handler.id), "phone", "回访核实联系方式")
        db.session.commit()
        return {"citizen": citizen, "handler": handler, "client_id": client.id}


def in_english(client) -> None:
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en",
                                   "next": "/"})


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_read_the_whole_access_log(client, login_as, record, role):
    login_as(role)
    in_english(client)
    url = f"/clients/{record['client_id']}/reveals"
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    assert "回访核实联系方式" in html and "牛办理 (handler_niu)" in html
    assert "Urban Management Bureau" in html and "Handler" in html and "Phone" in html
    assert PHONE not in html  # who saw it, never the value
    # The client's 360° page links to it.
    page = client.get(f"/clients/{record['client_id']}").get_data(as_text=True)
    assert f'href="{url}"' in page


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.CLERK, 403), (Role.OFFICIAL, 403), (Role.HANDLER, 404), (Role.CITIZEN, 403)],
)
def test_other_roles_do_not_read_the_access_log(client, login_as, record, role, status):
    login_as(role)  # a handler of urban with no case of this client: not their record
    url = f"/clients/{record['client_id']}/reveals"
    response = client.get(url)
    assert response.status_code == status
    assert "回访核实联系方式" not in response.get_data(as_text=True)
    if role is Role.CLERK:
        page = client.get(f"/clients/{record['client_id']}").get_data(as_text=True)
        assert f'href="{url}"' not in page


def test_anonymous_visitors_are_sent_to_sign_in(client, record):
    response = client.get(f"/clients/{record['client_id']}/reveals")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_unknown_client_is_404(client, login_as, record):
    login_as(Role.SUPERVISOR)
    assert client.get("/clients/999999/reveals").status_code == 404


def test_the_access_log_has_pages_newest_first(client, login_as, database, record):
    with database.app_context():
        handler = db.session.get(User, record["handler"].id)
        for i in range(25):
            db.session.add(RevealLog(client_id=record["client_id"], user_id=handler.id,
                                     field="phone", reason=f"第{i:02d}次核实"))
        db.session.commit()
    login_as(Role.SUPERVISOR)
    url = f"/clients/{record['client_id']}/reveals"
    first = client.get(url).get_data(as_text=True)
    assert "第24次核实" in first and 'rel="next"' in first
    assert "回访核实联系方式" not in first  # the oldest is on the next page
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert "回访核实联系方式" in second and 'rel="prev"' in second


def test_the_data_export_says_who_looked_at_the_data(client, database, record, world):
    sign_in(client, "citizen_ma")
    data = json.loads(client.get("/account/export").get_data(as_text=True))
    (reveal,) = data["reveals"]
    assert reveal["field"] == "phone" and reveal["reason"] == "回访核实联系方式"
    assert reveal["staff_name"] == "牛办理" and reveal["staff_role"] == "handler"
    assert reveal["staff_department"]["name_zh"] == "城市管理局"
    assert reveal["date"]


def test_the_data_export_reads_cases_as_the_client_does(client, database, record, world):
    """A staff note on a public step is the staff's, not the client's (``cases.public``)."""
    citizen = record["citizen"]
    case = make_case(database, citizen, world, title="路灯不亮")
    with database.app_context():
        db.session.add_all([
            CaseEvent(case_id=case.id, actor_id=record["handler"].id, action="dispatch",
                      note="内部派单说明", is_public=True,
                      details={"department": world.urban.id}),
            CaseEvent(case_id=case.id, actor_id=record["handler"].id, action="classify",
                      is_public=False, details={"priority": ["normal", "high"]}),
            CaseEvent(case_id=case.id, actor_id=record["handler"].id, action="request_info",
                      note="请补充照片", is_public=True),
        ])
        db.session.commit()
    sign_in(client, "citizen_ma")
    text = client.get("/account/export").get_data(as_text=True)
    (exported,) = json.loads(text)["cases"]
    notes = {e["action"]: e["note"] for e in exported["timeline"]}
    assert notes["request_info"] == "请补充照片" and notes["dispatch"] is None
    assert "内部派单说明" not in text
    # What a step changed is worded as the client's page words it; internal steps stay out.
    details = {e["action"]: e["details"] for e in exported["timeline"]}
    assert "城市管理局" in details["dispatch"] and "classify" not in details
