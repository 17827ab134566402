"""The JSON API ``/api/v1`` (issue 14, part 3): tokens, errors, cases, permissions, reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from cases.models import Case
from cases.services import dispatch_case
from portal.auth.token_services import create_token
from portal.auth.tokens import AccessToken
from portal.db import db, utcnow
from portal.models import Department, Role, User
from portal.privacy import mask_phone
from tests.factories import World, make_case, make_user


def make_token(app: Flask, user: User, scopes: str = "read write", days: int | None = None
               ) -> str:
    with app.app_context():
        _row, token = create_token(db.session.get(User, user.id), "test", scopes, days)
        db.session.commit()
        return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dispatch(app: Flask, case: Case, clerk: User, department_id: int) -> None:
    with app.app_context():
        dispatch_case(db.session.get(Case, case.id), db.session.get(User, clerk.id),
                      db.session.get(Department, department_id))
        db.session.commit()


def version_of(app: Flask, case: Case) -> int:
    with app.app_context():
        return db.session.get(Case, case.id).version


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def build_scene(app: Flask, world: World) -> dict:
    """Department A (urban) and B (transport); a case of each; two citizens."""
    owner = make_user(app, Role.CITIZEN, phone="13912345678")
    other = make_user(app, Role.CITIZEN)
    clerk = make_user(app, Role.CLERK)
    handler_a = make_user(app, Role.HANDLER, department_id=world.urban.id)
    handler_b = make_user(app, Role.HANDLER, department_id=world.transport.id)
    case_a = make_case(app, owner, world, title="噪声扰民 A 部门")
    case_b = make_case(app, owner, world, category_id=world.potholes.id, title="道路破损 B")
    other_case = make_case(app, other, world, title="另一位市民的诉求")
    dispatch(app, case_a, clerk, world.urban.id)
    dispatch(app, case_b, clerk, world.transport.id)
    return {
        "app": app, "world": world, "owner": owner, "other": other, "clerk": clerk,
        "handler_a": handler_a, "handler_b": handler_b, "case_a": case_a, "case_b": case_b,
        "other_case": other_case,
    }


@pytest.fixture
def scene(database: Flask, world: World) -> dict:
    return build_scene(database, world)


# --- signing in --------------------------------------------------------------------------


def test_requests_without_a_valid_token_are_401(client, scene):
    app = scene["app"]
    assert_error(client.get("/api/v1/cases"), 401, "unauthorized")
    assert_error(client.get("/api/v1/cases", headers=bearer("pat_nonsense")), 401,
                 "invalid_token")
    assert_error(client.get("/api/v1/cases", headers={"Authorization": "Basic eDp5"}), 401,
                 "unauthorized")
    token = make_token(app, scene["clerk"])
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    with app.app_context():  # revoked
        row = db.session.scalar(select(AccessToken))
        row.revoked_at = utcnow()
        db.session.commit()
    assert_error(client.get("/api/v1/cases", headers=bearer(token)), 401, "invalid_token")


def test_expired_token_and_disabled_owner_open_nothing(client, scene):
    app = scene["app"]
    expired = make_token(app, scene["clerk"], days=1)
    live = make_token(app, scene["handler_a"])
    with app.app_context():
        row = db.session.scalar(select(AccessToken).where(AccessToken.user_id
                                                          == scene["clerk"].id))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.get(User, scene["handler_a"].id).active = False
        db.session.commit()
    assert_error(client.get("/api/v1/cases", headers=bearer(expired)), 401, "invalid_token")
    assert_error(client.get("/api/v1/cases", headers=bearer(live)), 401, "invalid_token")


def test_only_a_keyed_hash_is_stored(scene):
    app = scene["app"]
    token = make_token(app, scene["clerk"])
    with app.app_context():
        row = db.session.scalar(select(AccessToken))
        assert token not in (row.token_hash, row.prefix) and token.startswith(row.prefix)
        assert len(row.token_hash) == 64


def test_a_browser_session_is_no_way_in(client, login_as, scene):
    login_as("clerk")
    assert_error(client.get("/api/v1/cases"), 401, "unauthorized")
    number = scene["case_a"].number
    # A cross-site POST riding the session cookie: refused as the web refuses it.
    response = client.post(f"/api/v1/cases/{number}/actions/note", json={"version": 1})
    assert_error(response, 400, "csrf_failed")


# --- errors ----------------------------------------------------------------------------------


def test_bad_input_is_a_json_error_never_a_500(client, scene):
    token = bearer(make_token(scene["app"], scene["clerk"]))
    error = assert_error(client.get("/api/v1/cases?limit=0", headers=token), 422,
                         "validation_failed")
    assert "limit" in error["fields"]
    assert_error(client.get("/api/v1/cases?queue=nope", headers=token), 422,
                 "validation_failed")
    assert_error(client.get("/api/v1/cases?cursor=%%%", headers=token), 400, "bad_cursor")
    assert_error(client.get("/api/v1/cases?cursor=WyJ4Il0", headers=token), 400, "bad_cursor")
    assert_error(client.get("/api/v1/nothing/here", headers=token), 404, "not_found")
    assert_error(client.get("/api/v1/cases/x/actions/note", headers=token), 405,
                 "method_not_allowed")
    number = scene["case_a"].number
    response = client.post(f"/api/v1/cases/{number}/actions/note", headers=token,
                           data="{not json", content_type="application/json")
    assert_error(response, 400, "bad_json")
    response = client.post(f"/api/v1/cases/{number}/actions/note", headers=token,
                           json={"version": 1, "surprise": 1})
    assert_error(response, 422, "validation_failed")


def test_rate_limit_per_token_is_429_with_retry_after(client, scene):
    app = scene["app"]
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        token = bearer(make_token(app, scene["clerk"]))
        other = bearer(make_token(app, scene["handler_a"]))
        for _ in range(3):
            assert client.get("/api/v1/cases", headers=token).status_code == 200
        response = client.get("/api/v1/cases", headers=token)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) >= 1
        assert client.get("/api/v1/cases", headers=other).status_code == 200
    finally:
        app.config.pop("API_RATE_LIMIT")


# --- cases: who sees and does what --------------------------------------------------------


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return {item["number"] for item in response.get_json()["items"]}


def test_lists_follow_the_visibility_rule(client, scene):
    app = scene["app"]
    a, b, other = scene["case_a"].number, scene["case_b"].number, scene["other_case"].number
    get = lambda user, q="": client.get(  # noqa: E731
        "/api/v1/cases" + q, headers=bearer(make_token(app, scene[user])))
    assert numbers(get("clerk")) == {a, b, other}
    assert numbers(get("handler_a")) == {a}
    assert numbers(get("handler_b")) == {b}
    assert numbers(get("owner")) == {a, b}
    assert numbers(get("other")) == {other}
    assert numbers(get("handler_a", "?queue=department")) == {a}
    assert numbers(get("clerk", "?queue=unassigned")) == {other}
    assert_error(get("owner", "?queue=mine"), 403, "forbidden")
    assert numbers(get("clerk", f"?category_id={scene['world'].potholes.id}")) == {b}


def test_department_a_cannot_read_or_act_on_department_b(client, scene):
    app = scene["app"]
    token = bearer(make_token(app, scene["handler_a"]))
    b = scene["case_b"]
    unknown = assert_error(client.get("/api/v1/cases/2099-999999", headers=token), 404,
                           "not_found")
    hidden = assert_error(client.get(f"/api/v1/cases/{b.number}", headers=token), 404,
                          "not_found")
    assert hidden == unknown  # the same answer: existence is private
    for action in ("sign_for", "note", "claim", "return"):
        response = client.post(f"/api/v1/cases/{b.number}/actions/{action}", headers=token,
                               json={"version": version_of(app, b), "note": "x"})
        assert_error(response, 404, "not_found")
    assert client.get(f"/api/v1/cases/{scene['case_a'].number}", headers=token
                      ).status_code == 200


def test_a_citizen_reads_only_their_own_cases(client, scene):
    app = scene["app"]
    token = bearer(make_token(app, scene["other"]))
    assert_error(client.get(f"/api/v1/cases/{scene['case_a'].number}", headers=token), 404,
                 "not_found")
    mine = client.get(f"/api/v1/cases/{scene['other_case'].number}", headers=token)
    data = mine.get_json()
    assert data["audience"] == "client" and data["internal_notes"] == []
    assert data.get("priority") is None and data.get("client") is None
    assert [a["action"] for a in data["allowed_actions"]] == ["withdraw"]


def test_a_read_only_token_cannot_act(client, scene):
    app = scene["app"]
    token = bearer(make_token(app, scene["handler_a"], scopes="read"))
    a = scene["case_a"]
    response = client.post(f"/api/v1/cases/{a.number}/actions/sign_for", headers=token,
                           json={"version": version_of(app, a)})
    assert_error(response, 403, "insufficient_scope")
    assert version_of(app, a) == version_of(app, a)


def test_staff_read_masks_the_client_and_offers_the_page_steps(client, scene):
    app = scene["app"]
    token = bearer(make_token(app, scene["handler_a"]))
    data = client.get(f"/api/v1/cases/{scene['case_a'].number}", headers=token).get_json()
    assert data["audience"] == "staff"
    assert data["client"]["phone"] == mask_phone("13912345678")
    assert "13912345678" not in str(data)
    offered = {a["action"] for a in data["allowed_actions"]}
    assert {"sign_for", "return", "claim", "note"} <= offered
    assert "dispatch" not in offered


def test_steps_go_through_the_workflow_with_a_version_check(client, scene):
    app = scene["app"]
    a = scene["case_a"]
    token = bearer(make_token(app, scene["handler_a"]))
    url = f"/api/v1/cases/{a.number}/actions/"
    version = version_of(app, a)
    assert_error(client.post(url + "sign_for", headers=token, json={"version": version - 1}),
                 409, "stale_version")
    response = client.post(url + "sign_for", headers=token, json={"version": version})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["case"]["status"] == "in_progress" and body["message"]
    assert body["case"]["version"] > version
    assert body["case"]["timeline"][-1]["actor_kind"] == "api"
    # A reply needs its text: the service refuses, nothing changes.
    error = assert_error(client.post(url + "reply", headers=token,
                                     json={"version": body["case"]["version"]}), 422,
                         "validation_failed")
    assert "note" in error["fields"]
    # A step the state does not allow: refused by the workflow (409).
    assert_error(client.post(url + "sign_for", headers=token,
                             json={"version": body["case"]["version"]}), 409, "refused")
    response = client.post(url + "reply", headers=token,
                           json={"version": body["case"]["version"], "note": "已处理。"})
    assert response.status_code == 200
    assert response.get_json()["case"]["status"] == "replied"


def test_dispatch_by_the_clerk_with_a_department(client, scene):
    app = scene["app"]
    case = scene["other_case"]
    token = bearer(make_token(app, scene["clerk"]))
    url = f"/api/v1/cases/{case.number}/actions/dispatch"
    assert_error(client.post(url, headers=token, json={"version": version_of(app, case),
                                                       "department_id": 999999}),
                 422, "validation_failed")
    response = client.post(url, headers=token, json={
        "version": version_of(app, case), "department_id": scene["world"].transport.id})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["case"]["department"]["id"] == scene["world"].transport.id


def test_the_client_withdraws_with_reason_and_confirmation(client, scene):
    app = scene["app"]
    case = scene["other_case"]
    token = bearer(make_token(app, scene["other"]))
    url = f"/api/v1/cases/{case.number}/actions/withdraw"
    error = assert_error(client.post(url, headers=token, json={"version": version_of(app, case)}),
                         422, "validation_failed")
    assert {"note", "confirm"} <= set(error["fields"])
    response = client.post(url, headers=token, json={
        "version": version_of(app, case), "note": "已自行解决", "confirm": True})
    assert response.status_code == 200
    assert response.get_json()["case"]["status"] == "withdrawn"


def test_cursor_pages_cover_the_list_once(client, scene):
    app = scene["app"]
    for i in range(5):
        make_case(app, scene["owner"], scene["world"], title=f"分页测试 {i}")
    token = bearer(make_token(app, scene["clerk"]))
    for sort in ("newest", "oldest", "due"):
        seen, cursor, pages = [], None, 0
        while True:
            url = f"/api/v1/cases?limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
            body = client.get(url, headers=token).get_json()
            seen += [item["number"] for item in body["items"]]
            cursor, pages = body["next_cursor"], pages + 1
            if cursor is None:
                break
        with app.app_context():
            total = db.session.scalar(select(func.count(Case.id)))
        assert len(seen) == len(set(seen)) == total == 8, sort
        assert pages == 4


@pytest.mark.search
def test_full_text_search_is_scoped_and_paged(client, scene):
    app = scene["app"]
    for i in range(3):
        make_case(app, scene["other"], scene["world"], title=f"路灯不亮第{i}处",
                  description="夜间路灯全部不亮，行人看不清路面。")
    clerk = bearer(make_token(app, scene["clerk"]))
    first = client.get("/api/v1/cases?q=路灯&limit=2", headers=clerk).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(f"/api/v1/cases?q=路灯&limit=2&cursor={first['next_cursor']}",
                      headers=clerk).get_json()
    found = [i["number"] for i in first["items"] + rest["items"]]
    assert len(found) == len(set(found)) == 3 and rest["next_cursor"] is None
    owner = bearer(make_token(app, scene["owner"]))  # not their cases
    assert client.get("/api/v1/cases?q=路灯", headers=owner).get_json()["items"] == []
    assert_error(client.get('/api/v1/cases?q="unclosed', headers=clerk), 400, "bad_query")


# --- the document and the reference page -----------------------------------------------------


def test_openapi_document_and_reference_page(client, database):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/cases/{number}/actions/{action}" in doc["paths"]
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "listCases" in html and "stale_version" in html
    assert "cdn" not in html.lower() and 'src="http' not in html and 'href="http' not in html
    english = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert "JSON API reference" in english.get_data(as_text=True)


def test_every_api_route_is_in_the_document(client, database):
    """The document is generated from the routes: none is missing, none is invented."""
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, item in doc["paths"].items()
                  for method in item}
    routes = set()
    for rule in database.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in (
                "api.openapi", "api.reference", "api.not_found"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^<>]+:)?{name}>", f"{{{name}}}", path)
        routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
