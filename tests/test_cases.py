"""The first slice: a citizen files, a clerk replies and closes, the citizen reads it."""

from __future__ import annotations

import re

from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseStatus
from portal.db import db
from portal.models import Role
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_case, make_user

NUMBER_RE = re.compile(r"^\d{4}-\d{6}$")


def filing_data(world, **overrides):
    data = {
        "type": "complaint",
        "category": str(world.noise.id),
        "title": "五一路夜间施工噪音扰民",
        "description": "每天晚上十一点以后仍在施工，严重影响附近居民休息。",
        "district": str(world.gulou.id),
    }
    data.update(overrides)
    return data


def case_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Case)).all())


def test_citizen_files_a_request_and_gets_a_tracking_number(client, login_as, world, database):
    login_as(Role.CITIZEN)
    response = submit(client, "/requests/new", filing_data(world))
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[-1]
    assert NUMBER_RE.match(number)
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert number in page and "五一路夜间施工噪音扰民" in page
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case.status == CaseStatus.SUBMITTED
        assert [e.action for e in case.events] == ["file"]


def test_filing_form_has_the_fixed_field_names(client, login_as, world):
    login_as(Role.CITIZEN)
    html = client.get("/requests/new").get_data(as_text=True)
    for name in ("type", "category", "title", "description", "district"):
        assert f'name="{name}"' in html
    assert "噪声扰民" in html and "<optgroup" in html


def test_tracking_numbers_count_up(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    first = make_case(database, citizen, world)
    second = make_case(database, citizen, world)
    year, n1 = first.number.split("-")
    assert second.number == f"{year}-{int(n1) + 1:06d}"


def test_bad_filing_input_gets_messages_and_saves_nothing(client, login_as, world, database):
    login_as(Role.CITIZEN)
    response = submit(
        client,
        "/requests/new",
        filing_data(world, title="", description="短", category="999999", district=""),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "请为您的诉求写一个简短的标题" in html
    assert case_count(database) == 0


def test_bad_filing_input_in_english(client, login_as, world, database):
    login_as(Role.CITIZEN)
    token = csrf_token(client, "/")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    response = submit(client, "/requests/new", filing_data(world, title="", district="999"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Give your request a short title." in html
    assert "Choose a value from the list." in html  # WTForms' message, in our own words
    assert case_count(database) == 0


def test_staff_cannot_use_the_citizen_filing_form(client, login_as, world):
    login_as(Role.CLERK)
    assert client.get("/requests/new").status_code == 403


def test_anonymous_filing_redirects_to_login(client, world):
    response = client.get("/requests/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_clerk_sees_unassigned_replies_and_closes(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    case = make_case(database, citizen, world, title="工业路井盖松动存在安全隐患")

    login_as(Role.CLERK)
    queue = client.get("/queues/unassigned").get_data(as_text=True)
    assert case.number in queue and "工业路井盖松动存在安全隐患" in queue

    url = f"/cases/{case.number}"
    response = submit(
        client, url, {"note": "已通知养护单位，今日内完成更换。"}, action=f"{url}/answer"
    )
    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)  # the flash
    assert re.search(rf'<p class="alert alert--success">[^<]*{case.number}[^<]*</p>', done)
    assert case.number not in client.get("/queues/unassigned").get_data(as_text=True)

    response = submit(client, url, {"note": ""}, action=f"{url}/close")
    assert response.status_code == 302

    with database.app_context():
        stored = db.session.scalar(select(Case).where(Case.number == case.number))
        assert stored.status == CaseStatus.CLOSED and stored.closed_at is not None
        events = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == stored.id).order_by(CaseEvent.id)
        ).all()
        assert [(e.action, e.to_status) for e in events] == [
            ("file", CaseStatus.SUBMITTED),
            ("answer", CaseStatus.REPLIED),
            ("close", CaseStatus.CLOSED),
        ]
        assert all(e.created_at.tzinfo is not None for e in events)

    # The citizen sees status and reply on "my requests" and the case page.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, citizen.username)
    mine = client.get("/requests").get_data(as_text=True)
    assert case.number in mine and "已办结" in mine
    page = client.get(url).get_data(as_text=True)
    assert "已通知养护单位，今日内完成更换。" in page


def test_refused_transition_says_why_and_changes_nothing(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    case = make_case(database, citizen, world)
    login_as(Role.CLERK)
    url = f"/cases/{case.number}"
    response = submit(client, url, {"note": ""}, action=f"{url}/close")
    assert response.status_code == 409
    assert "不能这样处理" in response.get_data(as_text=True)
    with database.app_context():
        stored = db.session.get(Case, case.id)
        assert stored.status == CaseStatus.SUBMITTED and len(stored.events) == 1


def test_empty_reply_is_refused(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    case = make_case(database, citizen, world)
    login_as(Role.CLERK)
    url = f"/cases/{case.number}"
    response = submit(client, url, {"note": "  "}, action=f"{url}/answer")
    assert response.status_code == 409
    with database.app_context():
        assert db.session.get(Case, case.id).status == CaseStatus.SUBMITTED


def test_unknown_action_is_refused(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    case = make_case(database, citizen, world)
    login_as(Role.CLERK)
    url = f"/cases/{case.number}"
    assert submit(client, url, {}, action=f"{url}/explode").status_code == 409


def test_citizen_cannot_reply_or_close(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    case = make_case(database, citizen, world)
    url = f"/cases/{case.number}"
    html = client.get(url).get_data(as_text=True)
    assert f"{url}/answer" not in html and f"{url}/close" not in html
    assert submit(client, url, {"note": "自己回复"}, action=f"{url}/answer").status_code == 409
    with database.app_context():
        assert db.session.get(Case, case.id).status == CaseStatus.SUBMITTED


def test_citizen_never_sees_another_citizens_case(client, login_as, world, database):
    owner = make_user(database, Role.CITIZEN)
    case = make_case(database, owner, world)
    login_as(Role.CITIZEN)
    assert client.get(f"/cases/{case.number}").status_code == 404
    assert case.number not in client.get("/requests").get_data(as_text=True)


def test_handler_sees_only_own_departments_cases(client, login_as, world, database):
    owner = make_user(database, Role.CITIZEN)
    mine = make_case(database, owner, world, department_id=world.urban.id)
    theirs = make_case(database, owner, world, department_id=world.transport.id)
    login_as(Role.HANDLER)  # belongs to the urban department
    assert client.get(f"/cases/{mine.number}").status_code == 200
    assert client.get(f"/cases/{theirs.number}").status_code == 404


def test_citizen_cannot_open_staff_queues(client, login_as, world):
    login_as(Role.CITIZEN)
    assert client.get("/queues/unassigned").status_code == 403


def test_unknown_queue_is_404(client, login_as, world):
    login_as(Role.CLERK)
    assert client.get("/queues/nonsense").status_code == 404


def test_my_requests_filter_and_pagination(client, login_as, world, database):
    citizen = login_as(Role.CITIZEN)
    for i in range(23):
        make_case(database, citizen, world, title=f"测试诉求第{i:02d}号")
    first = client.get("/requests").get_data(as_text=True)
    assert "测试诉求第22号" in first and "测试诉求第00号" not in first
    second = client.get("/requests?page=2").get_data(as_text=True)
    assert "测试诉求第00号" in second
    closed = client.get("/requests?status=closed").get_data(as_text=True)
    assert "测试诉求" not in closed
    assert client.get("/requests?status=bogus&page=-3").status_code == 200


def test_staff_page_masks_the_clients_phone(client, login_as, world, database):
    citizen = make_user(database, Role.CITIZEN, phone="13912345678")
    case = make_case(database, citizen, world)
    login_as(Role.CLERK)
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "139****5678" in html and "13912345678" not in html
