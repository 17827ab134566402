"""The JSON API's reads beside cases: clients (masked, logged reveal), reports, the
knowledge base and ratings, each scoped as its page is (issue 14, part 3)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from cases.knowledge.models import KnowledgeAnswer
from cases.satisfaction.models import Rating
from cases.satisfaction.vocabulary import RatingStatus
from citizens.models import RevealLog
from portal.db import db, utcnow
from portal.models import Role, User
from portal.privacy import mask_phone
from tests.factories import World, make_user
from tests.test_api import assert_error, bearer, build_scene, make_token, version_of


@pytest.fixture
def scene(database: Flask, world: World) -> dict:
    return build_scene(database, world)

# --- clients, reports, knowledge, ratings -----------------------------------------------------


def test_client_read_is_masked_and_reveal_is_logged(client, scene):
    app = scene["app"]
    owner = scene["owner"]
    with app.app_context():
        client_id = db.session.get(User, owner.id).client_id
    clerk = bearer(make_token(app, scene["clerk"]))
    data = client.get(f"/api/v1/clients/{client_id}", headers=clerk).get_json()
    assert data["phone"] == mask_phone("13912345678") and "13912345678" not in str(data)
    assert_error(client.get(f"/api/v1/clients/{client_id}",
                            headers=bearer(make_token(app, scene["other"]))), 403, "forbidden")
    handler_b = bearer(make_token(app, scene["handler_b"]))
    assert client.get(f"/api/v1/clients/{client_id}", headers=handler_b).status_code == 200
    url = f"/api/v1/clients/{client_id}/reveal"
    error = assert_error(client.post(url, headers=clerk, json={"field": "phone", "reason": " "}),
                         422, "validation_failed")
    assert "reason" in error["fields"]
    read_only = bearer(make_token(app, scene["clerk"], scopes="read"))
    assert_error(client.post(url, headers=read_only, json={"field": "phone", "reason": "回访"}),
                 403, "insufficient_scope")
    response = client.post(url, headers=clerk, json={"field": "phone", "reason": "回访核实"})
    assert response.get_json() == {"field": "phone", "value": "13912345678"}
    assert response.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        logged = db.session.scalars(select(RevealLog)).all()
        assert [(r.field, r.reason, r.user_id) for r in logged] == [
            ("phone", "回访核实", scene["clerk"].id)]


def test_reports_are_scoped_like_the_reports_pages(client, database, scene):
    app = scene["app"]
    official = make_user(app, Role.OFFICIAL)
    body = client.get("/api/v1/reports/workload?period=year",
                      headers=bearer(make_token(app, official))).get_json()
    assert body["scope"] == "city" and body["group"] == "department"
    assert body["total"]["cells"]["received"]["value"] == 2  # the two dispatched
    rates = client.get("/api/v1/reports/rates", headers=bearer(make_token(app, official)))
    assert rates.status_code == 200 and rates.get_json()["key"]
    assert_error(client.get("/api/v1/reports/workload",
                            headers=bearer(make_token(app, scene["clerk"]))), 403, "forbidden")
    assert_error(client.get("/api/v1/reports/workload?period=custom&from=x",
                            headers=bearer(make_token(app, official))), 400, "bad_period")


def test_knowledge_drafts_for_staff_only(client, scene):
    app = scene["app"]
    with app.app_context():
        draft = KnowledgeAnswer(title="草稿", body="草稿内容", status="draft")
        public = KnowledgeAnswer(title="已发布", body="内容", status="published",
                                 published_at=utcnow())
        db.session.add_all([draft, public])
        db.session.commit()
        draft_id, public_id = draft.id, public.id
    citizen = bearer(make_token(app, scene["other"]))
    clerk = bearer(make_token(app, scene["clerk"]))
    assert [a["id"] for a in client.get("/api/v1/knowledge", headers=citizen
                                        ).get_json()["items"]] == [public_id]
    assert {a["id"] for a in client.get("/api/v1/knowledge", headers=clerk
                                        ).get_json()["items"]} == {draft_id, public_id}
    assert_error(client.get(f"/api/v1/knowledge/{draft_id}", headers=citizen), 404,
                 "not_found")
    assert client.get(f"/api/v1/knowledge/{draft_id}", headers=clerk).get_json()["body"]


def test_ratings_are_for_who_may_list_them(client, scene):
    app = scene["app"]
    assert client.get("/api/v1/ratings", headers=bearer(make_token(app, scene["clerk"]))
                      ).get_json() == {"items": [], "next_cursor": None}
    assert_error(client.get("/api/v1/ratings", headers=bearer(make_token(app, scene["other"]))),
                 403, "forbidden")


def test_ratings_are_listed_as_on_the_ratings_page(client, scene):
    app = scene["app"]
    a = scene["case_a"]
    handler = bearer(make_token(app, scene["handler_a"]))
    url = f"/api/v1/cases/{a.number}/actions/"
    client.post(url + "sign_for", headers=handler, json={"version": version_of(app, a)})
    client.post(url + "reply", headers=handler,
                json={"version": version_of(app, a), "note": "已处理。"})
    clerk = bearer(make_token(app, scene["clerk"]))
    with app.app_context():  # the client rates the answer (2: not satisfied)
        rating = db.session.scalar(select(Rating).where(Rating.case_id == a.id))
        rating.status, rating.level, rating.rated_at = RatingStatus.RATED, 2, utcnow()
        db.session.commit()
    items = client.get("/api/v1/ratings?bad=true", headers=clerk).get_json()["items"]
    assert [(i["case"], i["status"], i["level"]) for i in items] == [(a.number, "rated", 2)]
    other_department = bearer(make_token(app, scene["handler_b"]))
    assert all(i["case"] != a.number for i in client.get(
        "/api/v1/ratings", headers=other_department).get_json()["items"])
