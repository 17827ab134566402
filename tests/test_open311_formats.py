"""Open311 GeoReport v2, the wire: every answer (errors included) against the published JSON
schemas, the same structure in XML, the exact content types and root elements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cases.models import CategoryQuestion, QuestionType
from portal.db import db
from tests.open311_support import (
    DATA,
    PUBLISHED,
    check_error,
    check_pair,
    make_key,
    make_scene,
    validate,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "open311"
API = "/open311/v2"


def add_questions(app, category_id: int) -> None:
    with app.app_context():
        db.session.add_all([
            CategoryQuestion(category_id=category_id, code="depth", kind=QuestionType.NUMBER,
                             question_zh="坑有多深（厘米）？", question_en="How deep (cm)?",
                             required=True, position=1),
            CategoryQuestion(category_id=category_id, code="lanes",
                             kind=QuestionType.MULTIPLE_CHOICE, question_zh="占用哪些车道？",
                             question_en="Which lanes?", position=2,
                             choices=[{"key": "left", "name_zh": "左侧", "name_en": "Left"},
                                      {"key": "right", "name_zh": "右侧", "name_en": "Right"}]),
            CategoryQuestion(category_id=category_id, code="gone", kind=QuestionType.STRING,
                             question_zh="停用的问题", position=3, is_active=False),
        ])
        db.session.commit()


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/open311 is not here (a clean clone)")
def test_the_committed_schemas_are_the_published_ones():
    for name in (*PUBLISHED, "swagger.json"):
        assert json.loads((DATA / name).read_text()) == json.loads((SHARED / name).read_text())


def test_discovery(client):
    data = check_pair(client, f"{API}/discovery", "discovery.json")
    endpoint = data["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


def test_services_and_definitions(app, client):
    scene = make_scene(app)
    add_questions(app, scene.world.potholes.id)
    services = check_pair(client, f"{API}/services?locale=en", "services.json")
    by_code = {s["service_code"]: s for s in services}
    # Each active leaf a service; the parent is a group, never a service.
    assert set(by_code) == {"city.noise", "roads.potholes"}
    assert by_code["roads.potholes"]["service_name"] == "Potholes"
    assert by_code["roads.potholes"]["group"] == "Urban management"
    assert by_code["roads.potholes"]["metadata"] is True
    assert by_code["city.noise"]["metadata"] is False
    assert by_code["roads.potholes"]["type"] == "realtime"

    chinese = check_pair(client, f"{API}/services", "services.json",
                         headers={"Accept-Language": "zh-CN"})
    assert {s["service_name"] for s in chinese} == {"噪声扰民", "道路破损"}
    english = client.get(f"{API}/services.json", headers={"Accept-Language": "en-US"}).get_json()
    assert {s["service_name"] for s in english} == {"Noise", "Potholes"}

    definition = check_pair(client, f"{API}/services/roads.potholes?locale=en",
                            "service-definition.json")
    assert definition["service_code"] == "roads.potholes"
    depth, lanes = definition["attributes"]  # the inactive question is not published
    assert (depth["code"], depth["datatype"], depth["required"], depth["order"]) == (
        "depth", "number", True, 1)
    assert depth["variable"] is True and depth["description"] == "How deep (cm)?"
    assert lanes["values"] == [{"key": "left", "name": "Left"}, {"key": "right", "name": "Right"}]
    check_pair(client, f"{API}/services/city.noise", "service-definition.json")


def test_requests_request_and_updates_shapes(app, client):
    scene = make_scene(app)
    listed = check_pair(client, f"{API}/requests", "requests.json")
    assert listed
    one = check_pair(client, f"{API}/requests/{scene.public.number}", "requests.json")
    assert len(one) == 1
    check_pair(client, f"{API}/servicerequestupdates", "servicerequestupdates.json")


def test_post_and_token_shapes(app, client):
    make_scene(app)
    key = make_key(app)
    for fmt in ("json", "xml"):
        answer = client.post(f"{API}/requests.{fmt}", data={
            "api_key": key, "service_code": "city.noise", "lat": "26.08", "long": "119.29",
            "description": "广场舞音响太吵",
        })
        assert answer.status_code == 200, answer.get_data(as_text=True)
        if fmt == "json":
            posted = answer.get_json()
            validate("post-response.json", posted)
        else:
            assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
            assert b"<service_requests><request><service_request_id>" in answer.data
    token = posted[0]["token"]
    data = check_pair(client, f"{API}/tokens/{token}", "token-response.json")
    assert data == [{"service_request_id": posted[0]["service_request_id"], "token": token}]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_standards_error_list(app, client, fmt):
    scene = make_scene(app)
    key = make_key(app)
    # 404: unknown service, request, token, another jurisdiction
    check_error(client.get(f"{API}/services/nope.{fmt}"), 404, fmt)
    check_error(client.get(f"{API}/requests/1999-000001.{fmt}"), 404, fmt)
    check_error(client.get(f"{API}/tokens/nope.{fmt}"), 404, fmt)
    check_error(client.get(f"{API}/services.{fmt}?jurisdiction_id=elsewhere.gov"), 404, fmt)
    # ours is fine
    assert client.get(f"{API}/services.{fmt}?jurisdiction_id=gov-crm.local").status_code == 200
    # 404: a case that is not a public matter reads as missing
    check_error(client.get(f"{API}/requests/{scene.tipoff.number}.{fmt}"), 404, fmt)
    # 400: filters not understood
    check_error(client.get(f"{API}/requests.{fmt}?start_date=yesterday"), 400, fmt)
    check_error(client.get(f"{API}/requests.{fmt}?status=pending"), 400, fmt)
    check_error(client.get(f"{API}/requests.{fmt}?page=0"), 400, fmt)
    check_error(client.get(f"{API}/requests.{fmt}?page_size=1001"), 400, fmt)
    # 400: no key or a field missing; 403: a wrong key; 404: an unknown service
    check_error(client.post(f"{API}/requests.{fmt}", data={"service_code": "city.noise"}),
                400, fmt)
    check_error(client.post(f"{API}/requests.{fmt}", data={"api_key": "o311_wrong"}), 403, fmt)
    check_error(client.post(f"{API}/requests.{fmt}", data={"api_key": key}), 400, fmt)
    check_error(client.post(f"{API}/requests.{fmt}",
                            data={"api_key": key, "service_code": "nope", "lat": "1",
                                  "long": "1"}), 404, fmt)
