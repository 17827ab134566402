"""Open311 ``servicerequestupdates`` (FixMyStreet's extension): public replies and state
changes reach clients in order, with the detailed states; staff's notes never do."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from cases.models import Case, CaseStatus
from cases.open311.statuses import EXTENDED, EXTENDED_STATES, basic_status
from cases.open311.updates import STATUS_ACTIONS
from cases.services import ActionInput, perform
from cases.workflow import TRANSITIONS
from portal.db import db
from portal.models import Role, User
from tests.factories import make_user
from tests.open311_support import check_pair, make_scene

API = "/open311/v2"
ROOT = Path(__file__).resolve().parents[1]


def test_every_step_that_sets_a_state_is_read():
    """Each ``record_event`` call in the code that names a literal action and a new state
    (its fifth argument) uses an action of ``STATUS_ACTIONS``: the feed finds it."""
    found = set()
    for path in (ROOT / "cases").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "record_event"
                    and len(node.args) >= 5 and isinstance(node.args[2], ast.Constant)
                    and not (isinstance(node.args[4], ast.Constant)
                             and node.args[4].value is None)):
                found.add(node.args[2].value)
    assert found and found <= set(STATUS_ACTIONS), found - set(STATUS_ACTIONS)
    assert set(TRANSITIONS) <= set(STATUS_ACTIONS)


def test_every_state_is_mapped():
    assert set(EXTENDED) == set(CaseStatus)
    assert set(EXTENDED.values()) <= set(EXTENDED_STATES)
    assert basic_status(CaseStatus.REPLIED) == "open"
    assert {s for s in CaseStatus if basic_status(s) == "closed"} == {
        CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN, CaseStatus.MERGED}


def work_the_case(app, scene) -> None:
    handler = make_user(app, Role.HANDLER, department_id=scene.world.transport.id)
    with app.app_context():
        case = db.session.get(Case, scene.public.id)
        staff = db.session.get(User, handler.id)
        perform(case, "sign_for", staff, ActionInput())
        perform(case, "note", staff, ActionInput(note="内部：联系了施工队长王某"))
        perform(case, "reply", staff, ActionInput(note="已安排维修，三日内完成。"))
        db.session.commit()


def test_updates_tell_the_story(app, client):
    scene = make_scene(app)
    work_the_case(app, scene)
    data = check_pair(client, f"{API}/servicerequestupdates?locale=en",
                      "servicerequestupdates.json")
    mine = [u for u in data["service_request_updates"]
            if u["service_request_id"] == scene.public.number]
    assert [u["status"] for u in mine] == ["open", "action_scheduled", "in_progress", "fixed"]
    assert mine[-1]["external_status_code"] == "replied"
    assert mine[-1]["description"] == "已安排维修，三日内完成。"  # the reply the step published
    assert mine[1]["description"] == "Status: Dispatched"
    assert all(u["update_id"].startswith("e") for u in mine)
    body = client.get(f"{API}/servicerequestupdates.xml").get_data(as_text=True)
    assert "王某" not in body  # an internal note never
    assert "工地偷排污水" not in body and scene.tipoff.number not in body
    # oldest first, ids unique
    times = [u["updated_datetime"] for u in data["service_request_updates"]]
    assert times == sorted(times)
    assert len({u["update_id"] for u in data["service_request_updates"]}) == len(times)


def test_update_filters(app, client):
    scene = make_scene(app)
    work_the_case(app, scene)
    by_id = check_pair(client, f"{API}/servicerequestupdates?service_request_id="
                               f"{scene.old.number}", "servicerequestupdates.json")
    assert {u["service_request_id"] for u in by_id["service_request_updates"]} == {
        scene.old.number}  # the id reaches past the 90 days
    everything = client.get(f"{API}/servicerequestupdates.json").get_json()[
        "service_request_updates"]
    assert scene.old.number not in {u["service_request_id"] for u in everything}
    page = client.get(f"{API}/servicerequestupdates.json?page=2&page_size=2").get_json()
    assert page["service_request_updates"] == everything[2:4]
    future = client.get(f"{API}/servicerequestupdates.json?start_date=2099-01-01T00:00:00Z")
    assert future.get_json() == {"service_request_updates": []}
    assert client.get(f"{API}/servicerequestupdates.json?end_date=nope").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Case.status).where(Case.id == scene.public.id)) == (
            CaseStatus.REPLIED)
