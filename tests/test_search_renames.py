"""Renames in the catalogue reach the index: a department, district or category renamed on
its admin page is found under its new name, in the cases (and client records, answers)
that name it, and no longer under the old one; a change that shows in no document (a
district's position) records nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from citizens.models import Client
from portal import refdata
from portal.db import db
from portal.models import ChangeRecord, Role
from search import engine
from tests.conftest import submit
from tests.factories import make_case, make_user
from tests.test_admin import category_data
from tests.test_lifecycle import as_user

pytestmark = pytest.mark.search  # the index follows every commit (inline)

EN = {"Accept-Language": "en"}
JSON = {"Accept": "application/json", **EN}


@pytest.fixture
def scene(database, world, tmp_path):
    with database.app_context():
        engine.backend().clear()
    citizen = make_user(database, Role.CITIZEN)
    cases = {
        "urban": make_case(database, citizen, world, title="路灯不亮",
                           department_id=world.urban.id, district_id=world.gulou.id),
        "transport": make_case(database, citizen, world, title="公交站牌倒了",
                               department_id=world.transport.id, category_id=world.potholes.id,
                               district_id=world.taijiang.id),
    }
    admin = make_user(database, Role.ADMIN, locale="en")
    return {"citizen": citizen, "admin": admin, **{k: c.number for k, c in cases.items()}}


def numbers(client, query: str) -> set[str]:
    response = client.get("/search", query_string={"q": query}, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return {r["number"] for r in response.get_json()["results"]}


def test_a_renamed_department_is_found_under_its_new_name_only(client, database, world, scene):
    as_user(client, scene["admin"])
    assert numbers(client, "department:城市管理局") == {scene["urban"]}
    response = submit(client, f"/admin/departments/{world.urban.id}/edit", {
        "code": "urban", "name_zh": "城市综合执法局", "name_en": "City Enforcement Bureau",
        "is_active": "y",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    assert numbers(client, "department:综合执法") == {scene["urban"]}
    assert numbers(client, "Enforcement") == {scene["urban"]}
    assert numbers(client, "department:城市管理局") == set()
    assert numbers(client, "交通运输局") == {scene["transport"]}  # the other one untouched
    with database.app_context():
        assert engine.verify().ok


def test_a_renamed_district_reaches_its_cases_and_client_records(client, database, world, scene):
    with database.app_context():
        record = db.session.get(Client, scene["citizen"].client_id)
        record.district_id = world.gulou.id
        db.session.commit()
    as_user(client, scene["admin"])
    url = f"/admin/districts/{world.gulou.id}/edit"
    response = submit(client, url, {"code": "gulou", "name_zh": "鼓山区",
                                    "name_en": "Gushan District", "position": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    assert numbers(client, "district:鼓山区") == {scene["urban"]}
    assert numbers(client, "district:鼓楼区") == set()
    page = client.get("/search", query_string={"q": "district:鼓山区", "tab": "clients"},
                      headers=EN).get_data(as_text=True)
    assert "1 client found." in page
    with database.app_context():
        assert engine.verify().ok


def test_a_renamed_parent_category_reaches_the_cases_of_its_children(
    client, database, world, scene
):
    as_user(client, scene["admin"])
    data = category_data(world, parent_id="", code="city", name_zh="市容环境",
                         name_en="City appearance")
    response = submit(client, f"/admin/categories/{world.parent.id}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    assert numbers(client, "category:市容环境") == {scene["urban"], scene["transport"]}
    assert numbers(client, "category:城市管理") == set()
    with database.app_context():
        assert engine.verify().ok


def test_a_change_no_document_shows_records_nothing(client, database, world, scene):
    # Nothing for the search index: the one record it writes is ``("reference", 0)``,
    # which tells other processes their reference-data snapshots are stale (portal/refdata).
    documents = select(func.count()).select_from(ChangeRecord).where(
        ChangeRecord.entity != refdata.ENTITY)
    with database.app_context():
        before = db.session.scalar(documents)
    as_user(client, scene["admin"])
    url = f"/admin/districts/{world.gulou.id}/edit"
    response = submit(client, url, {"code": "gulou", "name_zh": "鼓楼区",
                                    "name_en": "Gulou District", "position": "7"})
    assert response.status_code == 302
    with database.app_context():
        after = db.session.scalar(documents)
        assert db.session.scalar(select(func.count()).select_from(ChangeRecord)
                                 .where(ChangeRecord.entity == refdata.ENTITY))
    assert after == before
