"""Duplicates: shown while filing, merged into a master, linked as related."""

from __future__ import annotations

from sqlalchemy import select

from cases.duplicates import title_similarity
from cases.models import Case, CaseLink, CaseStatus
from portal.db import db
from portal.models import Role
from tests.conftest import submit
from tests.factories import make_case, make_user
from tests.test_cases import filing_data
from tests.test_lifecycle import as_user, post_action, step, stored


def test_title_similarity():
    assert title_similarity("五一路夜间施工噪音扰民", "五一路施工噪音扰民严重") > 0.5
    assert title_similarity("五一路夜间施工噪音扰民", "养老保险转移接续咨询") == 0
    assert title_similarity("Street light broken", "street light is broken") > 0.5
    assert title_similarity("", "x") == 0


def test_similar_open_cases_are_shown_while_filing(client, login_as, world, database):
    other = make_user(database, Role.CITIZEN)
    make_case(database, other, world, title="五一路夜间施工噪音扰民")
    make_case(database, other, world, title="五一路施工噪音", district_id=world.taijiang.id)
    login_as(Role.CITIZEN)
    first = submit(client, "/requests/new", filing_data(world, title="五一路工地夜间施工噪音"))
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "五一路夜间施工噪音扰民" in html
    assert "五一路施工噪音" not in html.replace("五一路夜间施工噪音扰民", "")  # other district
    assert 'name="confirm_new" value="1"' in html
    with database.app_context():
        assert len(db.session.scalars(select(Case)).all()) == 2  # nothing filed yet
    second = submit(client, "/requests/new",
                    {**filing_data(world, title="五一路工地夜间施工噪音"), "confirm_new": "1"})
    assert second.status_code == 302


def test_no_warning_for_a_different_matter(client, login_as, world, database):
    other = make_user(database, Role.CITIZEN)
    make_case(database, other, world, title="养老金未按时发放")
    login_as(Role.CITIZEN)
    assert submit(client, "/requests/new", filing_data(world)).status_code == 302


def test_merge_a_duplicate_into_its_master(client, world, database):
    first = make_user(database, Role.CITIZEN)
    second = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    master = make_case(database, first, world, title="五一路夜间施工噪音扰民")
    duplicate = make_case(database, second, world, title="五一路施工噪音扰民严重")

    as_user(client, clerk)
    page = client.get(f"/cases/{duplicate.number}").get_data(as_text=True)
    assert master.number in page  # offered as a possible duplicate
    response = post_action(client, duplicate.number, "merge", target=master.number)
    assert response.status_code == 302
    dup, dup_events = stored(database, duplicate.number)
    assert dup.status == CaseStatus.MERGED and dup.merged_into_id == master.id
    assert dup_events[-1] == "merge"
    _m, master_events = stored(database, master.number)
    assert master_events[-1] == "merged_from"

    # The master's answer reaches the duplicate's client on their own case page.
    step(database, master.number, "dispatch", clerk, department=world.urban.id)
    step(database, master.number, "sign_for", handler)
    step(database, master.number, "reply", handler, note="已责令施工单位夜间停工。")
    as_user(client, second)
    html = client.get(f"/cases/{duplicate.number}").get_data(as_text=True)
    assert "已责令施工单位夜间停工。" in html and master.number in html
    assert client.get(f"/cases/{master.number}").status_code == 404  # still not theirs


def test_merge_refusals(client, world, database):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    a = make_case(database, citizen, world)
    b = make_case(database, citizen, world)
    as_user(client, clerk)
    assert post_action(client, a.number, "merge").status_code == 409  # no master
    assert post_action(client, a.number, "merge", target=a.number).status_code == 409
    assert post_action(client, a.number, "merge", target="2026-999999").status_code == 409
    post_action(client, b.number, "merge", target=a.number)
    assert post_action(client, a.number, "merge", target=b.number).status_code == 409
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    step(database, a.number, "dispatch", clerk, department=world.urban.id)
    as_user(client, handler)
    assert post_action(client, a.number, "merge", target=b.number).status_code == 409
    after, _ = stored(database, a.number)
    assert after.status == CaseStatus.DISPATCHED


def test_link_related_cases(client, world, database):
    citizen = make_user(database, Role.CITIZEN)
    clerk = make_user(database, Role.CLERK)
    a = make_case(database, citizen, world, title="路灯不亮")
    b = make_case(database, citizen, world, title="道路积水", category_id=world.potholes.id)
    as_user(client, clerk)
    assert post_action(client, a.number, "link", target=b.number).status_code == 302
    assert post_action(client, a.number, "link", target=b.number).status_code == 409  # twice
    with database.app_context():
        assert len(db.session.scalars(select(CaseLink)).all()) == 2
    html = client.get(f"/cases/{b.number}").get_data(as_text=True)
    assert a.number in html and "路灯不亮" in html
