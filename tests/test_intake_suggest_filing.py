"""Suggestions settled by filing (issue 15): a taken or overridden suggestion through both
filing forms, and auto-routing above the threshold (dispatched by the system, on the
timeline as such) but not below it, nor without the filer leaving it to the portal."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseStatus
from cases.smart_intake.models import IntakeSettings, IntakeSuggestion
from portal.db import db
from tests.conftest import submit
from tests.test_browser import ui
from tests.test_cases import filing_data
from tests.test_intake import intake_data
from tests.test_intake_suggest_api import NOISE, rows, session_post

# Both categories named: 噪声扰民 scores 0.5, 道路破损 0.5 (the catalogue's words).
MIXED = {"title": "道路破损噪声扰民", "description": "路面坑洼，施工到深夜，请尽快处理。"}


def set_auto_route(app: Flask, on: bool = True, threshold: float = 0.8) -> None:
    with app.app_context():
        db.session.merge(IntakeSettings(id=1, auto_route=on, auto_route_threshold=threshold))
        db.session.commit()


def filed(app: Flask, response) -> Case:
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    number = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        events = [(e.action, e.actor_kind, e.is_public, e.details) for e in case.events]
        db.session.expunge_all()
    case.event_rows = events
    return case


def citizen_files(client, world, text: dict, token: str | None, rank: str = "", **data):
    form = filing_data(world, **text, **data)
    if token:
        form.update(suggestion_token=token, suggestion_rank=rank)
    return submit(client, "/requests/new", form)


def clerk_files(client, world, text: dict, token: str | None, rank: str = "", **data):
    form = intake_data(world, new_kind="citizen", new_name="赵老伯", **text, **data)
    if token:
        form.update(suggestion_token=token, suggestion_rank=rank)
    return submit(client, "/intake/new", form)


# --- taken or overridden -------------------------------------------------------------------


def test_citizen_takes_the_top_suggestion(client, database, world, login_as):
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    case = filed(database, citizen_files(client, world, NOISE, token, "1"))
    [row] = rows(database)
    assert (row.outcome, row.taken_rank, row.case_id, row.chosen_category_id) == (
        "taken", 1, case.id, world.noise.id)
    assert row.decided_at is not None
    assert case.status is CaseStatus.SUBMITTED  # auto-routing is off


def test_citizen_overrides_the_suggestion(client, database, world, login_as):
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    case = filed(database, citizen_files(client, world, NOISE, token,
                                         category=str(world.potholes.id)))
    [row] = rows(database)
    assert (row.outcome, row.taken_rank, row.case_id, row.chosen_category_id) == (
        "overridden", None, case.id, world.potholes.id)


def test_clerk_takes_the_second_suggestion(client, database, world, login_as):
    login_as("clerk")
    data = session_post(client, "/intake/new", MIXED).get_json()
    second = data["suggestions"][1]
    case = filed(database, clerk_files(client, world, MIXED, data["token"], "2",
                                       category=str(second["category_id"])))
    [row] = rows(database)
    assert (row.surface, row.outcome, row.taken_rank, row.case_id) == ("clerk", "taken", 2,
                                                                        case.id)


def test_clerk_overrides_and_a_foreign_or_used_token_is_ignored(client, database, world,
                                                                 login_as):
    login_as("clerk")
    token = session_post(client, "/intake/new", NOISE).get_json()["token"]
    filed(database, clerk_files(client, world, NOISE, token, category=str(world.potholes.id)))
    assert rows(database)[0].outcome == "overridden"
    # Filing again with the same token changes nothing: the row is decided.
    filed(database, clerk_files(client, world, {**NOISE, "title": "另一件事噪声扰民"}, token))
    assert [(r.outcome, r.chosen_category_id) for r in rows(database)] == [
        ("overridden", world.potholes.id)]
    # Another clerk's undecided token is not this clerk's to settle.
    other = session_post(client, "/intake/new", NOISE).get_json()["token"]
    login_as("clerk")
    filed(database, clerk_files(client, world, {**NOISE, "title": "第三件噪声扰民"}, other, "1"))
    assert rows(database)[-1].outcome == "shown"


def test_a_refused_form_keeps_the_token_for_the_next_try(client, database, world, login_as):
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    response = citizen_files(client, world, {**NOISE, "description": "太短"}, token, "1")
    assert response.status_code == 422
    assert f'value="{token}"' in response.get_data(as_text=True)
    assert rows(database)[0].outcome == "shown"


def test_filing_without_any_suggestion_works_as_before(client, database, world, login_as):
    login_as("citizen")
    set_auto_route(database, True, 0.5)
    case = filed(database, citizen_files(client, world, NOISE, None))
    assert case.status is CaseStatus.SUBMITTED and rows(database) == []


# --- auto-routing ------------------------------------------------------------------------------


def test_a_confident_top_suggestion_taken_by_the_citizen_routes_the_case(
        client, database, world, login_as):
    set_auto_route(database, True, 0.8)
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    case = filed(database, citizen_files(client, world, NOISE, token, "1"))
    assert case.status is CaseStatus.DISPATCHED and case.department_id == world.urban.id
    dispatch = [e for e in case.event_rows if e[0] == "dispatch"]
    auto = [e for e in case.event_rows if e[0] == "auto_route"]
    assert dispatch and dispatch[0][1] == "system"
    assert auto and auto[0][1] == "system" and auto[0][2] is False  # internal
    details = auto[0][3]
    assert details["score"] == 1.0 and details["department"] == world.urban.id
    assert "model_version" in details
    [row] = rows(database)
    assert (row.outcome, row.taken_rank, row.case_id) == ("auto_routed", 1, case.id)
    # Staff read it on the timeline, with the score.
    login_as("clerk")
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert ui(database, "Routed automatically by the intake suggestion") in page
    assert "100%" in page


def test_below_the_threshold_or_switched_off_nothing_is_routed(client, database, world,
                                                                login_as):
    set_auto_route(database, True, 0.9)
    login_as("citizen")
    token = session_post(client, "/requests/new", MIXED).get_json()["token"]
    case = filed(database, citizen_files(client, world, MIXED, token, "1",
                                         category=str(rows(database)[0].suggested[0]
                                                      ["category_id"])))
    assert case.status is CaseStatus.SUBMITTED
    assert rows(database)[0].outcome == "taken"
    set_auto_route(database, False, 0.5)
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    case = filed(database, citizen_files(client, world, NOISE, token, "1"))
    assert case.status is CaseStatus.SUBMITTED


def test_a_citizen_who_chose_the_category_without_clicking_is_not_routed(
        client, database, world, login_as):
    set_auto_route(database, True, 0.5)
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    case = filed(database, citizen_files(client, world, NOISE, token, ""))
    assert case.status is CaseStatus.SUBMITTED
    assert rows(database)[0].outcome == "taken"


def test_the_clerk_lets_the_portal_route(client, database, world, login_as):
    set_auto_route(database, True, 0.8)
    login_as("clerk")
    assert "intake_auto_route" in client.get("/intake/new").get_data(as_text=True)
    # Not ticked: the clerk dispatches as usual.
    token = session_post(client, "/intake/new", NOISE).get_json()["token"]
    case = filed(database, clerk_files(client, world, NOISE, token, "1"))
    assert case.status is CaseStatus.SUBMITTED
    # Ticked, even without script (no token): routed, and recorded as such.
    case = filed(database, clerk_files(client, world, {**NOISE, "title": "又是噪声扰民"}, None,
                                       intake_auto_route="1"))
    assert case.status is CaseStatus.DISPATCHED and case.department_id == world.urban.id
    with database.app_context():
        row = db.session.scalar(select(IntakeSuggestion).where(
            IntakeSuggestion.case_id == case.id))
        assert row.outcome == "auto_routed" and row.surface == "clerk"
        assert db.session.scalar(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "auto_route")) is not None


def test_a_routing_rule_wins_over_auto_routing(client, database, world, login_as):
    from cases.models import RoutingRule

    with database.app_context():
        db.session.add(RoutingRule(category_id=world.noise.id, department_id=world.transport.id))
        db.session.commit()
    set_auto_route(database, True, 0.5)
    login_as("citizen")
    token = session_post(client, "/requests/new", NOISE).get_json()["token"]
    case = filed(database, citizen_files(client, world, NOISE, token, "1"))
    assert case.department_id == world.transport.id  # the rule's, at filing
    assert not [e for e in case.event_rows if e[0] == "auto_route"]
    assert rows(database)[0].outcome == "taken"
