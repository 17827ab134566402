"""The admin pages of the case engine: departments, districts, categories, routing, calendar.

Everything goes through HTTP with CSRF tokens; assertions read status codes, field
error ids and the database. English text is checked only on pages requested in English.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from cases.models import CalendarDay, CalendarYear, Case, CaseStatus, Category, RoutingRule
from portal.db import db
from portal.models import Department, District, Role
from tests.conftest import csrf_token, submit
from tests.factories import make_case, make_user

PAGES = [
    "/admin/",
    "/admin/departments",
    "/admin/departments/new",
    "/admin/districts",
    "/admin/districts/new",
    "/admin/categories",
    "/admin/categories/new",
    "/admin/routing",
    "/admin/routing/new",
    "/admin/calendar",
    "/admin/calendar/days/new",
]


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN)


def in_english(client) -> None:
    """Switch the signed-in user to English (stored on the account)."""
    token = csrf_token(client, "/")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def row(app, model, *where):
    with app.app_context():
        found = db.session.scalar(select(model).where(*where))
        if found is not None:
            db.session.expunge(found)
        return found


def options(html: str, name: str) -> list[str]:
    """The option values of the select named ``name``."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html, f"no select {name}"
    return re.findall(r'value="([^"]*)"', select_html.group(1))


def errors_of(response, field: str) -> bool:
    return f'id="{field}-errors"' in response.get_data(as_text=True)


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CLERK, Role.SUPERVISOR, Role.HANDLER, Role.CITIZEN])
def test_only_admins_may_open_the_admin_pages(client, login_as, role):
    login_as(role)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    for url in [
        "/admin/departments/new",
        "/admin/calendar/import",
        "/admin/calendar/publish",
        "/admin/calendar/days/new",
    ]:
        response = client.post(url, data={"csrf_token": token, "year": "2026", "code": "x"})
        assert response.status_code == 403, url
    assert "/admin/" not in client.get("/").get_data(as_text=True)


def test_non_admin_cannot_change_rows(client, login_as, world, database):
    login_as(Role.SUPERVISOR)
    token = csrf_token(client, "/")
    response = client.post(
        f"/admin/departments/{world.urban.id}/edit",
        data={"csrf_token": token, "code": "urban", "name_zh": "改名", "name_en": ""},
    )
    assert response.status_code == 403
    assert row(database, Department, Department.id == world.urban.id).name_zh == "城市管理局"
    assert count(database, CalendarYear) == 0


def test_anonymous_users_are_sent_to_sign_in(client, world):
    response = client.get("/admin/categories")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_index_links_every_section(client, admin):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in home  # the "Administration" link in the main navigation
    page = client.get("/admin/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for url in [
        "/admin/users",
        "/admin/departments",
        "/admin/districts",
        "/admin/categories",
        "/admin/routing",
        "/admin/calendar",
    ]:
        assert f'href="{url}"' in html, url


@pytest.mark.parametrize("url", PAGES)
def test_every_admin_page_renders_for_an_admin(client, admin, url):
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<nav class="tabs"' in html and 'aria-current="page"' in html
    assert "<script" not in html and "style=" not in html


def test_the_staff_pages_still_work(client, admin, world):
    assert client.get("/admin/users").status_code == 200
    assert client.get("/admin/users/new").status_code == 200


# --- departments --------------------------------------------------------------------------

DEPARTMENT = {"code": "water", "name_zh": "水务集团", "name_en": "Water Utility", "is_active": "y"}


def test_department_list_and_create(client, admin, world, database):
    html = client.get("/admin/departments").get_data(as_text=True)
    assert "<caption" in html and 'scope="col"' in html
    assert "城市管理局" in html and "交通运输局" in html
    response = submit(client, "/admin/departments/new", DEPARTMENT)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/departments"
    created = row(database, Department, Department.code == "water")
    assert created.name_zh == "水务集团" and created.name_en == "Water Utility"
    assert created.is_active
    assert "水务集团" in client.get("/admin/departments").get_data(as_text=True)


def test_department_edit_and_deactivate(client, admin, world, database):
    url = f"/admin/departments/{world.transport.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'value="transport"' in form and 'name="is_active"' in form
    response = submit(
        client, url, {"code": "transport", "name_zh": "交通运输局（新）", "name_en": "Transport"}
    )  # the is_active box left unticked
    assert response.status_code == 302
    department = row(database, Department, Department.id == world.transport.id)
    assert department.name_zh == "交通运输局（新）" and not department.is_active
    # An inactive department is no longer offered for new routing rules.
    rule_form = client.get("/admin/routing/new").get_data(as_text=True)
    assert str(world.transport.id) not in options(rule_form, "department_id")
    assert str(world.urban.id) in options(rule_form, "department_id")


@pytest.mark.parametrize("code", ["urban", " URBAN "])
def test_duplicate_department_code_is_refused(client, admin, world, database, code):
    response = submit(client, "/admin/departments/new", {**DEPARTMENT, "code": code})
    assert response.status_code == 422 and errors_of(response, "code")
    assert count(database, Department) == 2


def test_renaming_a_department_onto_another_code_is_refused(client, admin, world, database):
    url = f"/admin/departments/{world.transport.id}/edit"
    response = submit(client, url, {**DEPARTMENT, "code": "urban"})
    assert response.status_code == 422 and errors_of(response, "code")
    assert row(database, Department, Department.id == world.transport.id).code == "transport"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "has space"}, "code"),
        ({"code": "x" * 41}, "code"),
        ({"name_zh": ""}, "name_zh"),
        ({"name_zh": "长" * 101}, "name_zh"),
        ({"name_en": "x" * 151}, "name_en"),
    ],
)
def test_bad_department_input_saves_nothing(client, admin, world, database, change, field):
    response = submit(client, "/admin/departments/new", {**DEPARTMENT, **change})
    assert response.status_code == 422 and errors_of(response, field)
    assert count(database, Department) == 2


def test_department_list_has_pages(client, admin, world, database):
    with database.app_context():
        db.session.add_all(Department(code=f"zz{i:02d}", name_zh=f"部门{i:02d}") for i in range(25))
        db.session.commit()
    first = client.get("/admin/departments").get_data(as_text=True)
    assert "zz00" in first and "zz24" not in first and 'rel="next"' in first
    second = client.get("/admin/departments?page=2").get_data(as_text=True)
    assert "zz24" in second and 'rel="prev"' in second


def test_admin_lists_are_in_pinyin_order(client, admin, world, database):
    """Departments and districts sort by the pinyin of their Chinese names (issue 10 #15),
    not by code or position; so do the department choices of the staff forms."""
    with database.app_context():
        db.session.add_all([
            Department(code="aaa", name_zh="张家湾办", name_en="Zhang"),
            Department(code="zzz", name_zh="阿里办", name_en="Ali"),
            District(code="aaa", name_zh="长乐区", position=0),
            District(code="zzz", name_zh="仓山区", position=99),
        ])
        db.session.commit()
    html = client.get("/admin/departments").get_data(as_text=True)
    order = ["阿里办", "城市管理局", "交通运输局", "张家湾办"]
    assert [html.index(name) for name in order] == sorted(html.index(name) for name in order)
    html = client.get("/admin/districts").get_data(as_text=True)
    order = ["仓山区", "长乐区", "鼓楼区", "台江区"]  # cang, chang, gu, tai
    assert [html.index(name) for name in order] == sorted(html.index(name) for name in order)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert form.index("阿里办") < form.index("城市管理局") < form.index("张家湾办")


def test_bad_department_is_404(client, admin, world):
    assert client.get("/admin/departments/9999/edit").status_code == 404


# --- districts ----------------------------------------------------------------------------

DISTRICT = {
    "code": "cangshan",
    "name_zh": "仓山区",
    "name_en": "Cangshan District",
    "position": "3",
}


def test_district_list_create_and_edit(client, admin, world, database):
    html = client.get("/admin/districts").get_data(as_text=True)
    assert "鼓楼区" in html and "台江区" in html
    assert submit(client, "/admin/districts/new", DISTRICT).status_code == 302
    created = row(database, District, District.code == "cangshan")
    assert created.position == 3 and created.name_en == "Cangshan District"
    url = f"/admin/districts/{created.id}/edit"
    response = submit(client, url, {**DISTRICT, "name_zh": "仓山", "position": "0"})
    assert response.status_code == 302
    edited = row(database, District, District.id == created.id)
    assert edited.name_zh == "仓山" and edited.position == 0
    # Position 0 puts it first in the list.
    html = client.get("/admin/districts").get_data(as_text=True)
    assert html.index("仓山") < html.index("鼓楼区")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "gulou"}, "code"),
        ({"position": "-1"}, "position"),
        ({"position": "abc"}, "position"),
        ({"position": ""}, "position"),
        ({"name_zh": ""}, "name_zh"),
    ],
)
def test_bad_district_input_saves_nothing(client, admin, world, database, change, field):
    response = submit(client, "/admin/districts/new", {**DISTRICT, **change})
    assert response.status_code == 422 and errors_of(response, field)
    assert count(database, District) == 2


# --- categories ---------------------------------------------------------------------------


def category_data(world, **overrides):
    data = {
        "parent_id": str(world.parent.id),
        "code": "city.lights",
        "name_zh": "路灯不亮",
        "name_en": "Street lights",
        "department_id": str(world.urban.id),
        "position": "5",
        "is_active": "y",
        "sign_amount": "2",
        "sign_unit": "hours",
        "reply_amount": "5",
        "reply_unit": "days",
    }
    data.update(overrides)
    return data


def test_category_tree_is_listed_indented(client, admin, world):
    html = client.get("/admin/categories").get_data(as_text=True)
    assert "<caption" in html and 'scope="row"' in html
    # The parent comes first; its children follow (by position, then id), indented.
    rows = re.findall(r'<th scope="row">(.*?)</th>', html)
    names = ["城市管理", "噪声扰民", "道路破损"]
    assert all(r.endswith(name) for r, name in zip(rows, names, strict=True))
    assert "└" not in rows[0] and "└" in rows[1] and "└" in rows[2]
    form = client.get("/admin/categories/new").get_data(as_text=True)
    assert "\u00a0\u00a0└\u00a0噪声扰民" in form  # the parent select, indented too


def test_category_create_with_deadlines(client, admin, world, database):
    response = submit(client, "/admin/categories/new", category_data(world))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/categories"
    created = row(database, Category, Category.code == "city.lights")
    assert created.parent_id == world.parent.id and created.department_id == world.urban.id
    assert (created.sign_amount, created.sign_unit.value) == (2, "hours")
    assert (created.reply_amount, created.reply_unit.value) == (5, "days")
    assert created.position == 5 and created.is_active
    # A top-level category with no default department.
    response = submit(
        client,
        "/admin/categories/new",
        category_data(world, parent_id="", department_id="", code="roads"),
    )
    assert response.status_code == 302
    top = row(database, Category, Category.code == "roads")
    assert top.parent_id is None and top.department_id is None


def test_new_category_form_prefills_parent_and_default_deadlines(client, admin, world):
    html = client.get(f"/admin/categories/new?parent={world.parent.id}").get_data(as_text=True)
    assert f'<option selected value="{world.parent.id}"' in html
    assert re.search(r'<input[^>]*name="sign_amount"[^>]*value="4"', html)
    assert re.search(r'<input[^>]*name="reply_amount"[^>]*value="10"', html)
    assert options(html, "parent_id")[0] == ""  # "none": a top-level category


def test_category_edit_changes_deadlines(client, admin, world, database):
    url = f"/admin/categories/{world.noise.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'value="city.noise"' in form
    data = category_data(
        world,
        code="city.noise",
        name_zh="噪声扰民",
        sign_amount="1",
        sign_unit="days",
        reply_amount="15",
        reply_unit="days",
    )
    assert submit(client, url, data).status_code == 302
    noise = row(database, Category, Category.id == world.noise.id)
    assert (noise.sign_amount, noise.sign_unit.value) == (1, "days")
    assert noise.reply_amount == 15


@pytest.mark.parametrize("ancestor", ["self", "child"])
def test_a_category_cannot_be_its_own_ancestor(client, admin, world, database, ancestor):
    url = f"/admin/categories/{world.parent.id}/edit"
    parent_id = world.parent.id if ancestor == "self" else world.noise.id
    data = category_data(world, code="city", parent_id=str(parent_id), name_zh="城市管理")
    response = submit(client, url, data)
    assert response.status_code == 422 and errors_of(response, "parent_id")
    assert row(database, Category, Category.id == world.parent.id).parent_id is None


def test_cycle_message_in_english(client, admin, world, database):
    in_english(client)
    url = f"/admin/categories/{world.parent.id}/edit"
    data = category_data(world, code="city", parent_id=str(world.noise.id))
    html = submit(client, url, data).get_data(as_text=True)
    assert "A category cannot be placed under itself or one of its subcategories." in html


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "city.noise"}, "code"),
        ({"code": "CITY.NOISE"}, "code"),
        ({"code": "bad code"}, "code"),
        ({"name_zh": ""}, "name_zh"),
        ({"sign_amount": "0"}, "sign_amount"),
        ({"sign_amount": "366"}, "sign_amount"),
        ({"sign_amount": ""}, "sign_amount"),
        ({"reply_amount": "x"}, "reply_amount"),
        ({"sign_unit": "weeks"}, "sign_unit"),
        ({"reply_unit": ""}, "reply_unit"),
        ({"parent_id": "9999"}, "parent_id"),
        ({"department_id": "9999"}, "department_id"),
        ({"position": "-3"}, "position"),
    ],
)
def test_bad_category_input_saves_nothing(client, admin, world, database, change, field):
    response = submit(client, "/admin/categories/new", category_data(world, **change))
    assert response.status_code == 422 and errors_of(response, field)
    assert count(database, Category) == 3


def test_deactivating_a_parent_with_active_children_is_refused(client, admin, world, database):
    url = f"/admin/categories/{world.parent.id}/edit"
    data = category_data(world, code="city", parent_id="", name_zh="城市管理")
    del data["is_active"]
    response = submit(client, url, data)
    assert response.status_code == 422 and errors_of(response, "is_active")
    assert row(database, Category, Category.id == world.parent.id).is_active


def test_deactivating_a_leaf(client, admin, world, database):
    url = f"/admin/categories/{world.potholes.id}/edit"
    data = category_data(
        world, code="roads.potholes", name_zh="道路破损", department_id=str(world.transport.id)
    )
    del data["is_active"]
    assert submit(client, url, data).status_code == 302
    assert not row(database, Category, Category.id == world.potholes.id).is_active
    # It is no longer offered to routing rules.
    rule_form = client.get("/admin/routing/new").get_data(as_text=True)
    assert options(rule_form, "category_id") == ["", str(world.noise.id)]


# --- routing rules ------------------------------------------------------------------------


def rule_data(world, **overrides):
    data = {
        "category_id": str(world.noise.id),
        "district_id": str(world.gulou.id),
        "department_id": str(world.transport.id),
        "position": "0",
        "is_active": "y",
    }
    data.update(overrides)
    return data


def test_routing_rule_makes_new_cases_dispatch(client, admin, world, database):
    citizen = make_user(database, Role.CITIZEN)
    before = make_case(database, citizen, world)
    assert before.department_id is None and before.status == CaseStatus.SUBMITTED

    response = submit(client, "/admin/routing/new", rule_data(world))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/routing"
    html = client.get("/admin/routing").get_data(as_text=True)
    assert "交通运输局" in html and "鼓楼区" in html

    routed = make_case(database, citizen, world)
    assert routed.department_id == world.transport.id
    assert routed.status == CaseStatus.DISPATCHED
    # The rule names Gulou only: a case in Taijiang is not routed by it.
    elsewhere = make_case(database, citizen, world, district_id=world.taijiang.id)
    assert elsewhere.department_id is None

    # A category-wide rule catches Taijiang; Gulou keeps its own rule.
    data = rule_data(world, district_id="", department_id=str(world.urban.id))
    assert submit(client, "/admin/routing/new", data).status_code == 302
    taijiang = make_case(database, citizen, world, district_id=world.taijiang.id)
    gulou = make_case(database, citizen, world)
    assert taijiang.department_id == world.urban.id
    assert gulou.department_id == world.transport.id


def test_routing_rule_filed_over_http_by_a_citizen(client, admin, world, database, login_as):
    assert submit(client, "/admin/routing/new", rule_data(world, district_id="")).status_code == 302
    login_as(Role.CITIZEN)
    filing = {
        "type": "complaint",
        "category": str(world.noise.id),
        "title": "夜间施工噪音",
        "description": "每天晚上十一点以后仍在施工，严重影响休息。",
        "district": str(world.taijiang.id),
    }
    assert submit(client, "/requests/new", filing).status_code == 302
    case = row(database, Case, Case.title == "夜间施工噪音")
    assert case.department_id == world.transport.id and case.status == CaseStatus.DISPATCHED


def test_routing_rule_edit_and_deactivate(client, admin, world, database):
    assert submit(client, "/admin/routing/new", rule_data(world)).status_code == 302
    rule = row(database, RoutingRule, RoutingRule.category_id == world.noise.id)
    url = f"/admin/routing/{rule.id}/edit"
    assert f'<option selected value="{world.transport.id}"' in client.get(url).get_data(
        as_text=True
    )
    data = rule_data(world, department_id=str(world.urban.id), position="2")
    del data["is_active"]
    assert submit(client, url, data).status_code == 302
    edited = row(database, RoutingRule, RoutingRule.id == rule.id)
    assert edited.department_id == world.urban.id and edited.position == 2
    assert not edited.is_active
    citizen = make_user(database, Role.CITIZEN)
    assert make_case(database, citizen, world).department_id is None


def test_same_position_for_the_same_category_and_district_is_refused(
    client, admin, world, database
):
    assert submit(client, "/admin/routing/new", rule_data(world)).status_code == 302
    response = submit(
        client, "/admin/routing/new", rule_data(world, department_id=str(world.urban.id))
    )
    assert response.status_code == 422 and errors_of(response, "position")
    assert count(database, RoutingRule) == 1
    # Another position is fine.
    data = rule_data(world, department_id=str(world.urban.id), position="1")
    assert submit(client, "/admin/routing/new", data).status_code == 302


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category_id": ""}, "category_id"),
        ({"category_id": "parent"}, "category_id"),  # not a leaf: not offered
        ({"department_id": ""}, "department_id"),
        ({"department_id": "9999"}, "department_id"),
        ({"district_id": "9999"}, "district_id"),
        ({"position": "x"}, "position"),
    ],
)
def test_bad_routing_input_saves_nothing(client, admin, world, database, change, field):
    if change.get("category_id") == "parent":
        change = {"category_id": str(world.parent.id)}
    response = submit(client, "/admin/routing/new", rule_data(world, **change))
    assert response.status_code == 422 and errors_of(response, field)
    assert count(database, RoutingRule) == 0


def test_routing_form_offers_leaf_categories_only(client, admin, world):
    html = client.get("/admin/routing/new").get_data(as_text=True)
    assert options(html, "category_id") == ["", str(world.noise.id), str(world.potholes.id)]
    assert options(html, "district_id") == ["", str(world.gulou.id), str(world.taijiang.id)]


# --- holiday calendar ---------------------------------------------------------------------


def test_calendar_warns_for_an_unpublished_year(client, admin, database):
    in_english(client)
    page = client.get("/admin/calendar?year=2027")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="calendar-warning"' in html
    assert "No published holiday schedule for 2027: deadlines in 2027 count weekends only." in html
    assert "No published holiday schedule for 2028" in html  # the next year too
    # The overview warns as well.
    assert 'id="calendar-warning"' in client.get("/admin/").get_data(as_text=True)


def test_calendar_defaults_to_the_current_year(client, admin):
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    html = client.get("/admin/calendar").get_data(as_text=True)
    assert f'name="year" value="{year}"' in html


def test_calendar_imports_2026_from_the_library(client, admin, database):
    in_english(client)
    response = submit(
        client, "/admin/calendar?year=2026", {"year": "2026"}, "/admin/calendar/import"
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == "/admin/calendar?year=2026"
    )
    year = row(database, CalendarYear, CalendarYear.year == 2026)
    assert year is not None and year.source.startswith("holidays")
    spring = row(database, CalendarDay, CalendarDay.day == date(2026, 2, 14))
    assert spring.is_workday and spring.source == "library"
    assert not row(database, CalendarDay, CalendarDay.day == date(2026, 2, 16)).is_workday

    html = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "Imported the holiday schedule for 2026" in html
    assert 'datetime="2026-02-14"' in html and 'datetime="2026-10-01"' in html
    assert "No published holiday schedule for 2026" not in html
    assert "No published holiday schedule for 2027" in html


def test_calendar_import_of_an_unpublished_year_says_so(client, admin, database):
    in_english(client)
    response = submit(
        client, "/admin/calendar?year=2031", {"year": "2031"}, "/admin/calendar/import"
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The holidays library has no published schedule for 2031" in html
    assert count(database, CalendarYear) == 0 and count(database, CalendarDay) == 0


def test_admin_adds_edits_and_removes_a_make_up_day(client, admin, database):
    data = {"day": "2027-10-09", "kind": "workday", "name": "国庆节调休上班日"}
    response = submit(client, "/admin/calendar/days/new", data)
    assert (
        response.status_code == 302 and response.headers["Location"] == "/admin/calendar?year=2027"
    )
    day = row(database, CalendarDay, CalendarDay.day == date(2027, 10, 9))
    assert day.is_workday and day.source == "admin" and day.name == "国庆节调休上班日"
    html = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert 'datetime="2027-10-09"' in html and "国庆节调休上班日" in html

    url = "/admin/calendar/days/2027-10-09/edit"
    assert re.search(
        r'<input[^>]*checked[^>]*value="workday"', client.get(url).get_data(as_text=True)
    )
    assert submit(client, url, {"kind": "holiday", "name": "本市停工"}).status_code == 302
    day = row(database, CalendarDay, CalendarDay.day == date(2027, 10, 9))
    assert not day.is_workday and day.name == "本市停工"

    response = submit(client, url, {}, "/admin/calendar/days/2027-10-09/remove")
    assert response.status_code == 302
    assert row(database, CalendarDay, CalendarDay.day == date(2027, 10, 9)) is None
    assert client.get(url).status_code == 404


def test_admin_day_survives_an_import(client, admin, database):
    data = {"day": "2026-02-14", "kind": "holiday", "name": "本市不调休"}
    assert submit(client, "/admin/calendar/days/new", data).status_code == 302
    submit(client, "/admin/calendar", {"year": "2026"}, "/admin/calendar/import")
    day = row(database, CalendarDay, CalendarDay.day == date(2026, 2, 14))
    assert not day.is_workday and day.source == "admin"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"day": ""}, "day"),
        ({"day": "2026-13-40"}, "day"),
        ({"kind": "sometimes"}, "kind"),
        ({"name": "长" * 101}, "name"),
    ],
)
def test_bad_calendar_day_saves_nothing(client, admin, database, change, field):
    data = {"day": "2026-10-10", "kind": "workday", "name": "调休", **change}
    response = submit(client, "/admin/calendar/days/new", data)
    assert response.status_code == 422 and errors_of(response, field)
    assert count(database, CalendarDay) == 0


def test_mark_a_year_published_by_hand(client, admin, database):
    in_english(client)
    response = submit(client, "/admin/calendar", {"year": "2027"}, "/admin/calendar/publish")
    assert response.status_code == 302
    year = row(database, CalendarYear, CalendarYear.year == 2027)
    assert year.source == "admin"
    html = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "No published holiday schedule for 2027" not in html
    assert "No published holiday schedule for 2028" in html


@pytest.mark.parametrize("year", ["", "abc", "1800"])
def test_bad_year_is_refused(client, admin, database, year):
    for action in ("/admin/calendar/import", "/admin/calendar/publish"):
        assert submit(client, "/admin/calendar", {"year": year}, action).status_code == 400
    assert count(database, CalendarYear) == 0


def test_unknown_calendar_day_is_404(client, admin):
    assert client.get("/admin/calendar/days/2026-02-30/edit").status_code == 404
    assert client.get("/admin/calendar/days/2026-02-27/edit").status_code == 404


def test_every_admin_change_of_the_catalogue_and_texts_is_recorded(
    client, admin, world, database
):
    """Categories, routing rules, the calendar and message texts land on the activity page."""
    from portal.models import AdminAction

    assert submit(client, "/admin/categories/new", category_data(world)).status_code == 302
    created = row(database, Category, Category.code == "city.lights")
    edited = category_data(world, name_zh="路灯故障")
    assert submit(client, f"/admin/categories/{created.id}/edit", edited).status_code == 302
    rule = {"category_id": str(created.id), "district_id": "",
            "department_id": str(world.urban.id), "position": "1"}
    assert submit(client, "/admin/routing/new", rule).status_code == 302
    day = {"day": "2027-10-09", "kind": "workday", "name": "调休上班日"}
    assert submit(client, "/admin/calendar/days/new", day).status_code == 302
    token = csrf_token(client, "/admin/calendar?year=2027")
    client.post("/admin/calendar/days/2027-10-09/remove", data={"csrf_token": token})
    text = {"subject": "答复 {number}", "body": "{client_name}：{reply}"}
    assert submit(client, "/admin/message-templates/reply/email/zh_CN", text).status_code == 302
    with database.app_context():
        rows = db.session.scalars(select(AdminAction).order_by(AdminAction.id)).all()
        recorded = [(r.action, r.actor_id, r.details) for r in rows]
    assert [a for a, _actor, _details in recorded] == [
        "category.create", "category.update", "routing_rule.create", "calendar_day.set",
        "calendar_day.remove", "message_text.update",
    ]
    assert all(actor == admin.id for _a, actor, _d in recorded)
    assert recorded[0][2] == {"code": "city.lights"}
    assert recorded[3][2] == {"day": "2027-10-09", "workday": True}
    page = client.get("/admin/activity", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "city.lights" in html and "2027-10-09" in html
