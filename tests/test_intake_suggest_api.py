"""``POST /api/v1/intake/suggestions`` (issue 15): the fixed-point answer, who may ask
(intake staff's tokens; signed-in sessions with their CSRF token), errors in the API's
shape, the rate limit, the recording of each list shown and the urgency words."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, select

from cases.smart_intake.models import IntakeSuggestion, UrgencyWord
from cases.vocabulary import Priority
from portal.db import db
from portal.models import Role
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.test_api import bearer, make_token

URL = "/api/v1/intake/suggestions"
NOISE = {"title": "楼下酒吧噪声扰民", "description": "每天深夜音乐很吵，影响休息。"}


def rows(app: Flask) -> list[IntakeSuggestion]:
    with app.app_context():
        found = list(db.session.scalars(select(IntakeSuggestion).order_by(IntakeSuggestion.id)))
        db.session.expunge_all()
        return found


def no_words(app: Flask) -> None:
    """The migration seeds a list (the first test of a session still sees it): empty it."""
    with app.app_context():
        db.session.execute(delete(UrgencyWord))
        db.session.commit()


def add_word(app: Flask, word: str, priority: Priority = Priority.URGENT,
             active: bool = True) -> None:
    with app.app_context():
        db.session.add(UrgencyWord(word=word, priority=priority, is_active=active))
        db.session.commit()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["fields"], dict)
    return error


def session_post(client, page: str, body: dict, **kw):
    """A browser's call from ``page``: the page's CSRF token in X-CSRFToken."""
    token = csrf_token(client, page)
    return client.post(URL, json=body, headers={"X-CSRFToken": token}, **kw)


# --- the answer -------------------------------------------------------------------------


def test_a_clerks_token_gets_the_fixed_point_answer(client, database, world):
    clerk = make_user(database, Role.CLERK)
    response = client.post(URL, json=NOISE, headers=bearer(make_token(database, clerk)))
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    suggestions = data["suggestions"]
    assert 1 <= len(suggestions) <= 3
    first = suggestions[0]
    assert {"category", "department", "score"} <= set(first)
    assert first["category"] == "城市管理/噪声扰民"
    assert first["department"] == "城市管理局"
    assert 0 < first["score"] <= 1 and first["category_id"] == world.noise.id
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert data["urgent"] is False and data["priority"] is None and data["words"] == []
    # The list shown is recorded, with its token.
    [row] = rows(database)
    assert row.token == data["token"] and row.surface == "api" and row.user_id == clerk.id
    assert row.outcome == "shown" and row.suggested[0]["category_id"] == world.noise.id


def test_several_categories_best_first_at_most_three(client, database, world):
    clerk = make_user(database, Role.CLERK)
    body = {"title": "道路破损", "description": "路面坑洼，旁边工地噪声扰民，城市管理不到位。"}
    data = client.post(URL, json=body, headers=bearer(make_token(database, clerk))).get_json()
    names = [s["category"] for s in data["suggestions"]]
    assert set(names) == {"城市管理/噪声扰民", "城市管理/道路破损"}
    assert len(names) <= 3


def test_who_may_ask_with_a_token(client, database, world):
    for role in (Role.SUPERVISOR, Role.ADMIN):
        user = make_user(database, role)
        assert client.post(URL, json=NOISE, headers=bearer(make_token(database, user))
                           ).status_code == 200
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    citizen = make_user(database, Role.CITIZEN)
    for user in (handler, citizen):
        response = client.post(URL, json=NOISE, headers=bearer(make_token(database, user)))
        assert_error(response, 403, "forbidden")
    assert_error(client.post(URL, json=NOISE, headers=bearer("pat_nope")), 401, "invalid_token")
    assert_error(client.post(URL, json=NOISE), 400, "csrf_failed")  # no token, no CSRF


def test_a_session_needs_its_csrf_token_a_bearer_none(client, database, world, login_as):
    login_as("clerk")
    # No X-CSRFToken: refused before anything else, and nothing recorded.
    assert_error(client.post(URL, json=NOISE), 400, "csrf_failed")
    assert_error(client.post(URL, json=NOISE, headers={"X-CSRFToken": "forged"}), 400,
                 "csrf_failed")
    assert rows(database) == []
    response = session_post(client, "/intake/new", NOISE)
    assert response.status_code == 200 and response.get_json()["suggestions"]
    assert [r.surface for r in rows(database)] == ["clerk"]


def test_citizens_ask_from_their_filing_form(client, database, world, login_as):
    citizen = login_as("citizen")
    response = session_post(client, "/requests/new", {**NOISE, "surface": "api"})
    assert response.status_code == 200
    [row] = rows(database)
    assert row.surface == "citizen" and row.user_id == citizen.id  # not theirs to choose


def test_other_staff_and_anonymous_visitors_may_not_ask(client, database, world, login_as):
    token = csrf_token(client, "/login")
    assert_error(client.post(URL, json=NOISE, headers={"X-CSRFToken": token}), 401,
                 "unauthorized")
    login_as("handler")
    assert_error(session_post(client, "/", NOISE), 403, "forbidden")
    login_as("official")
    assert_error(session_post(client, "/", NOISE), 403, "forbidden")


# --- bad input ----------------------------------------------------------------------------


def test_bad_input_is_the_apis_error_never_a_500(client, database, world):
    headers = bearer(make_token(database, make_user(database, Role.CLERK)))
    error = assert_error(client.post(URL, json={"title": " ", "description": ""},
                                     headers=headers), 422, "validation_failed")
    assert set(error["fields"]) == {"title", "description"}
    assert_error(client.post(URL, json={}, headers=headers), 422, "validation_failed")
    assert_error(client.post(URL, json={"title": "x" * 201}, headers=headers), 422,
                 "validation_failed")
    assert_error(client.post(URL, json={"title": 5}, headers=headers), 422, "validation_failed")
    error = assert_error(client.post(URL, json={**NOISE, "district_id": "one"},
                                     headers=headers), 422, "validation_failed")
    assert "district_id" in error["fields"]
    assert_error(client.post(URL, data="{nope", content_type="application/json",
                             headers=headers), 400, "bad_json")
    assert_error(client.get(URL, headers=headers), 405, "method_not_allowed")
    assert rows(database) == []


def test_rate_limited_per_token_and_per_user(client, database, world, login_as):
    database.config["INTAKE_SUGGEST_RATE_LIMIT"] = "3 per minute"
    try:
        headers = bearer(make_token(database, make_user(database, Role.CLERK)))
        for _ in range(3):
            assert client.post(URL, json=NOISE, headers=headers).status_code == 200
        response = client.post(URL, json=NOISE, headers=headers)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) >= 1
        login_as("clerk")  # another caller has a count of its own
        assert session_post(client, "/intake/new", NOISE).status_code == 200
    finally:
        database.config.pop("INTAKE_SUGGEST_RATE_LIMIT")


# --- recording and urgency ------------------------------------------------------------------


def test_a_form_typed_into_is_one_row(client, database, world, login_as):
    login_as("citizen")
    first = session_post(client, "/requests/new", {"title": "噪声扰民"}).get_json()
    again = session_post(client, "/requests/new", {**NOISE, "token": first["token"]}).get_json()
    assert again["token"] == first["token"]
    assert len(rows(database)) == 1
    # Another user's token is not theirs to update: a row of their own.
    login_as("citizen")
    other = session_post(client, "/requests/new", {**NOISE, "token": first["token"]}).get_json()
    assert other["token"] != first["token"] and len(rows(database)) == 2


def test_urgency_words_flag_the_request(client, database, world):
    no_words(database)
    add_word(database, "燃气泄漏", Priority.URGENT)
    add_word(database, "漏水", Priority.HIGH)
    add_word(database, "噪声", Priority.HIGH, active=False)
    headers = bearer(make_token(database, make_user(database, Role.CLERK)))
    body = {"title": "楼道里燃气 泄漏", "description": "楼上漏水，楼下噪声扰民"}
    data = client.post(URL, json=body, headers=headers).get_json()
    assert data["urgent"] is True and data["priority"] == "urgent"
    assert sorted(data["words"]) == sorted(["燃气泄漏", "漏水"])  # spaces ignored; inactive not
    assert rows(database)[-1].urgent is True
    calm = client.post(URL, json={"title": "楼上漏水"}, headers=headers).get_json()
    assert calm["urgent"] is True and calm["priority"] == "high" and calm["words"] == ["漏水"]
    # Urgency words alone still answer (and are recorded), with no category to suggest.
    alone = client.post(URL, json={"title": "燃气泄漏了"}, headers=headers).get_json()
    assert alone["suggestions"] == [] and alone["urgent"] and alone["token"]
