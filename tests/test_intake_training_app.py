"""Smart intake learning from the deployment's closed cases (issue 15), on one generated
history per backend (module-scoped: training is the slow part):

- the label is where a case was finally handled: cases about manholes were first filed
  under noise and moved to road damage (and to the transport bureau); open cases with
  a misleading category are not learned from;
- ``flask intake train`` (its last line), ``--if-missing``, ``versions``, ``activate``;
- ``suggest`` uses the active model (its version, the right category first, the learned
  department per district);
- the admin pages over HTTP: the list, a version's page, train now, roll back;
- the sweep's schedule.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from cases.catalogue.models import Category
from cases.models import Case, CaseStatus, CaseType
from cases.smart_intake.models import IntakeModelVersion, IntakeSettings
from cases.smart_intake.predict import suggest
from cases.smart_intake.store import retrain_due
from cases.sweep import sweep_deadlines
from citizens.models import Client
from portal.db import db, utcnow
from portal.models import Role
from tests.conftest import CSRF_RE, empty_tables, sign_in
from tests.factories import make_user, make_world

NOISE = ("夜间施工噪音", "广场舞音响太吵", "酒吧噪声扰民", "装修电钻声太大")
ROADS = ("路面坑洼积水", "道路塌陷", "人行道地砖破损", "马路裂缝")
MANHOLES = ("井盖缺失", "井盖松动", "井盖破裂")  # first filed as noise, moved to roads
WATER = ("停水没有通知", "自来水发黄", "水管爆裂漏水", "水压太低")
PLACES = ("五一路", "工业路", "杨桥路", "阳光城小区", "东浦新村", "华林路")


@pytest.fixture(scope="module")
def scene(app: Flask):
    """World + a water leaf; 110 closed cases over 110 days; an admin."""
    empty_tables(app)
    world = make_world(app)
    admin = make_user(app, Role.ADMIN)
    citizen = make_user(app, Role.CITIZEN)
    rng = random.Random(15)
    start = utcnow() - timedelta(days=140)
    with app.app_context():
        water = Category(code="city.water", name_zh="供水问题", name_en="Water supply",
                         parent_id=world.parent.id, department_id=world.urban.id,
                         keywords="停水,水压")
        db.session.add(water)
        db.session.flush()
        client_id = db.session.scalar(select(Client.id))
        plan = ([("noise", t) for t in NOISE] * 10 + [("roads", t) for t in ROADS] * 8
                + [("manhole", t) for t in MANHOLES] * 6 + [("water", t) for t in WATER] * 5)
        rng.shuffle(plan)
        for i, (kind, words) in enumerate(plan):
            place = rng.choice(PLACES)
            category = {"noise": world.noise, "water": water}.get(kind, world.potholes)
            department = world.urban if kind in ("noise", "water") else world.transport
            district = world.gulou if i % 2 else world.taijiang
            if kind == "roads" and district.id == world.taijiang.id:
                department = world.urban  # in Taijiang the urban bureau mends the roads
            filed = start + timedelta(days=i)
            case = Case(number=f"T{i:05d}", type=CaseType.COMPLAINT, title=f"{place}{words}",
                        description=f"{place}{words}，已经好几天了，请尽快处理。",
                        category_id=(world.noise.id if kind == "manhole" else category.id),
                        district_id=district.id, client_id=client_id,
                        department_id=world.urban.id, status=CaseStatus.CLOSED,
                        created_at=filed, closed_at=filed + timedelta(days=3))
            db.session.add(case)
            db.session.flush()
            # Handled in the end: moved (reclassified, transferred) where it belonged.
            case.category_id, case.department_id = category.id, department.id
        for i in range(12):  # open cases, misleading: never learned from
            db.session.add(Case(number=f"O{i:05d}", type=CaseType.COMPLAINT,
                                title="杨桥路井盖缺失", description="井盖缺失很危险",
                                category_id=water.id, district_id=world.gulou.id,
                                client_id=client_id, status=CaseStatus.IN_PROGRESS,
                                created_at=utcnow()))
        db.session.commit()
        water_id = water.id
    client = app.test_client()
    assert sign_in(client, admin.username).status_code == 302
    yield world, water_id, client, citizen
    empty_tables(app)


def cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["intake", *args])


def token(client, url: str = "/admin/intake/models/") -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    return match.group(1) or match.group(2)


def test_suggestions_use_the_catalogue_before_any_model(app, scene):
    world, _water, _client, _citizen = scene
    with app.app_context():
        found = suggest("五一路噪声扰民")
    assert found.version is None and found.items[0].category_id == world.noise.id


def test_cli_trains_and_prints_the_final_line(app, scene):
    result = cli(app, "train")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"top-1 \d\.\d{3} top-3 \d\.\d{3}", lines[-1])
    assert any("level 1" in line and "baseline" in line for line in lines)
    assert "version 1 stored" in result.output
    with app.app_context():
        row = db.session.scalar(select(IntakeModelVersion))
        assert row.version == 1 and row.is_active and row.tested_cases == 22
        assert row.trained_cases == 88 and row.top1 >= 0.9 and row.baseline_top1 is not None
        # The time split: every test case was filed after the newest training case.
        newest_trained = db.session.scalar(
            select(Case.created_at).where(Case.status == CaseStatus.CLOSED)
            .order_by(Case.created_at).offset(87).limit(1))
        assert row.split_at == newest_trained
        assert sum(v["cases"] for v in row.per_category.values()) == 22
    assert cli(app, "train", "--if-missing").output.startswith(
        "smart intake: a model version exists")


def test_suggest_uses_the_active_model(app, scene):
    world, water_id, _client, _citizen = scene
    with app.app_context():
        manhole = suggest("华林路井盖缺失", "晚上看不清容易摔倒", district_id=world.gulou.id)
        assert manhole.version == 1
        first = manhole.items[0]
        # Learned from the final category (road damage) and department (transport).
        assert first.category_id == world.potholes.id
        assert first.department_id == world.transport.id
        assert 0 < first.score <= 1 and sum(i.score for i in manhole.items) <= 1.001
        roads_in_taijiang = suggest("五一路道路塌陷", district_id=world.taijiang.id)
        assert roads_in_taijiang.items[0].category_id == world.potholes.id
        assert roads_in_taijiang.items[0].department_id == world.urban.id
        assert suggest("自来水发黄不能喝").items[0].category_id == water_id
        assert suggest("", "").items == []


def test_a_new_web_worker_loads_the_active_model_before_its_first_request(app, scene):
    from cases.smart_intake import store
    from cases.smart_intake.warm import warm_up

    with app.app_context():
        store.forget_cached_model()  # as in a fresh worker
    warm_up(app)
    with app.app_context():
        assert store._cache()["loaded"][0] == 1  # version 1, loaded and scored once


def test_admin_pages_list_versions_train_and_roll_back(app, scene):
    world, _water, client, _citizen = scene
    page = client.get("/admin/intake/models/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/admin/intake/models/1" in html and "/admin/intake/models/train" in html
    assert 'href="/admin/intake/models/"' in client.get("/admin/").get_data(as_text=True)

    app.config["INTAKE_TRAIN_RUN"] = "inline"
    try:
        trained = client.post("/admin/intake/models/train", data={"csrf_token": token(client)})
    finally:
        app.config.pop("INTAKE_TRAIN_RUN")
    assert trained.status_code == 302
    with app.app_context():
        rows = {r.version: r for r in db.session.scalars(select(IntakeModelVersion))}
        assert set(rows) == {1, 2} and rows[2].is_active and not rows[1].is_active
        assert rows[2].trained_by_id is not None
        assert suggest("工业路井盖松动").version == 2

    detail = client.get("/admin/intake/models/2")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "城市管理/道路破损" in text
    assert client.get("/admin/intake/models/99").status_code == 404

    no_token = client.post("/admin/intake/models/1/activate")
    assert no_token.status_code == 400  # CSRF
    rolled = client.post("/admin/intake/models/1/activate",
                         data={"csrf_token": token(client)})
    assert rolled.status_code == 302
    with app.app_context():
        assert db.session.scalar(
            select(IntakeModelVersion.version).where(IntakeModelVersion.is_active)) == 1
        assert suggest("工业路井盖松动").version == 1
    assert client.post("/admin/intake/models/42/activate",
                       data={"csrf_token": token(client)}).status_code == 404

    versions = cli(app, "versions").output.splitlines()
    assert versions[0].startswith("  v2") and versions[1].startswith("* v1")
    assert cli(app, "activate", "2").exit_code == 0
    assert cli(app, "activate", "9").exit_code != 0


def test_a_worse_version_is_kept_inactive(app, scene):
    with app.app_context():
        db.session.execute(update(IntakeModelVersion).where(IntakeModelVersion.is_active)
                           .values(top1=1.5))
        db.session.commit()
    result = cli(app, "train")
    assert result.exit_code == 0 and "not active" in result.output
    with app.app_context():
        active = db.session.scalar(
            select(IntakeModelVersion.version).where(IntakeModelVersion.is_active))
        assert active == 2


def test_the_sweep_retrains_on_schedule(app, scene):
    world, _water, _client, _citizen = scene
    now = utcnow()
    with app.app_context():
        db.session.add(IntakeSettings(id=1, retrain_every_days=7))
        db.session.commit()
        assert not retrain_due(now)  # the last training is new
        db.session.execute(update(IntakeModelVersion)
                           .values(created_at=now - timedelta(days=8)))
        db.session.commit()
        assert not retrain_due(now)  # no case closed since
        db.session.execute(update(Case).where(Case.number == "T00000")
                           .values(closed_at=now - timedelta(days=1)))
        db.session.commit()
        assert retrain_due(now)
        db.session.get(IntakeSettings, 1).retrain_every_days = 0
        db.session.commit()
        assert not retrain_due(now)  # 0: never
        db.session.get(IntakeSettings, 1).retrain_every_days = 7
        db.session.commit()
        before = db.session.scalar(select(func.max(IntakeModelVersion.version)))
        sweep_deadlines(now)
        after = db.session.scalar(select(func.max(IntakeModelVersion.version)))
        assert after == before + 1
        assert not retrain_due(now)  # the new version is new
