"""Admins keep staff accounts (issue 10 #4): list, edit, disable, enable, forced password
change, and the record of every admin action (the activity page, each account's history).

Through HTTP with CSRF tokens; English text is checked on pages asked for in English,
Chinese only where the text is data (department names) or an older catalogue entry.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.admin.staff import StaffData, disable_staff, update_staff
from portal.db import db
from portal.errors import DomainError
from portal.models import AdminAction, Department, Role, User
from portal.notifications.models import OutboxMessage
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "Violet-Harbour-Kettle-93"


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN, display_name="管理员甲")


def in_english(client) -> None:
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en",
                                   "next": "/"})


def get_user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def actions(app, action: str | None = None) -> list[AdminAction]:
    with app.app_context():
        stmt = select(AdminAction).order_by(AdminAction.id)
        if action:
            stmt = stmt.where(AdminAction.action == action)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def edit_data(user: User, **changes) -> dict:
    data = {
        "display_name": user.display_name,
        "role": user.role.value,
        "department_id": str(user.department_id or ""),
        "email": user.email or "",
        "phone": user.phone or "",
    }
    return {**data, **changes}


def post(client, url: str, data: dict | None = None, form_url: str | None = None):
    return client.post(url, data={"csrf_token": csrf_token(client, form_url or "/"),
                                  **(data or {})})


# --- the list -------------------------------------------------------------------------------


def test_staff_list_filters_searches_and_shows_status(client, admin, world, database):
    make_user(database, Role.CLERK, username="clerk_wang", display_name="王受理")
    make_user(database, Role.HANDLER, world.transport.id, username="handler_li",
              display_name="李办理")
    make_user(database, Role.SUPERVISOR, username="gone_zhao", active=False)
    make_user(database, Role.OFFICIAL, username="reset_qian", must_change_password=True)
    citizen = make_user(database, Role.CITIZEN, username="citizen_sun")
    in_english(client)
    html = client.get("/admin/users").get_data(as_text=True)
    for name in ("clerk_wang", "handler_li", "gone_zhao", "reset_qian"):
        assert name in html
    assert "citizen_sun" not in html  # client accounts are not kept here
    assert "Client accounts (citizens and enterprises) are not listed here" in html
    assert "Disabled" in html and "Must change password" in html
    user = get_user(database, citizen.id)
    assert f"/admin/users/{user.id}/edit" not in html

    def listed(query: str) -> set[str]:
        page = client.get("/admin/users?" + query).get_data(as_text=True)
        return {n for n in ("clerk_wang", "handler_li", "gone_zhao", "reset_qian") if n in page}

    assert listed("role=clerk") == {"clerk_wang"}
    assert listed(f"department={world.transport.id}") == {"handler_li"}
    assert listed("active=0") == {"gone_zhao"}
    assert "gone_zhao" not in listed("active=1")
    assert listed("q=李办") == {"handler_li"}
    assert listed("q=RESET_") == {"reset_qian"}
    assert listed("role=citizen") >= {"clerk_wang", "handler_li"}  # not a staff role: ignored


def test_staff_list_has_pages_that_keep_the_filter(client, admin, database):
    for i in range(25):
        make_user(database, Role.CLERK, username=f"clerk{i:02d}")
    first = client.get("/admin/users?role=clerk").get_data(as_text=True)
    assert "clerk00" in first and "clerk24" not in first
    assert 'href="/admin/users?page=2&amp;role=clerk"' in first or (
        'href="/admin/users?role=clerk&amp;page=2"' in first
    )
    second = client.get("/admin/users?role=clerk&page=2").get_data(as_text=True)
    assert "clerk24" in second


# --- editing --------------------------------------------------------------------------------


def test_admin_edits_a_staff_account_and_it_is_recorded(client, admin, world, database):
    clerk = make_user(database, Role.CLERK, display_name="张三")
    url = f"/admin/users/{clerk.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="张三"' in page and 'name="department_id"' in page
    response = submit(client, url, edit_data(
        clerk, display_name="张三丰", role="handler", department_id=str(world.urban.id),
        email="zhang@gov.example.cn", phone="13800001111",
    ))
    assert response.status_code == 302 and response.headers["Location"] == url
    changed = get_user(database, clerk.id)
    assert (changed.display_name, changed.role, changed.department_id) == (
        "张三丰", Role.HANDLER, world.urban.id)
    assert (changed.email, changed.phone) == ("zhang@gov.example.cn", "13800001111")
    (row,) = actions(database, "user.update")
    assert row.actor_id == admin.id and row.target_type == "user" and row.target_id == clerk.id
    assert row.details == {
        "display_name": ["张三", "张三丰"],
        "role": ["clerk", "handler"],
        "department_id": [None, world.urban.id],
        "email": [None, "zhang@gov.example.cn"],
        "phone": [None, "13800001111"],
    }
    assert row.address  # the request's address
    # Saved unchanged: nothing more is recorded.
    assert submit(client, url, edit_data(changed)).status_code == 302
    assert len(actions(database, "user.update")) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "handler", "department_id": ""}, "department_id"),
        ({"role": "department_head", "department_id": ""}, "department_id"),
        ({"role": "citizen"}, "role"),
        ({"role": "boss"}, "role"),
        ({"display_name": ""}, "display_name"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"department_id": "999999"}, "department_id"),
    ],
)
def test_bad_staff_edits_save_nothing(client, admin, world, database, change, field):
    clerk = make_user(database, Role.CLERK, display_name="李四")
    url = f"/admin/users/{clerk.id}/edit"
    response = submit(client, url, edit_data(clerk, **change))
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert get_user(database, clerk.id).role is Role.CLERK
    assert actions(database, "user.update") == []


def test_an_inactive_department_is_refused_unless_already_held(client, admin, world, database):
    handler = make_user(database, Role.HANDLER, world.transport.id)
    clerk = make_user(database, Role.CLERK)
    with database.app_context():
        db.session.get(Department, world.transport.id).is_active = False
        db.session.commit()
    # A clerk may have no department or an active one, never a closed one.
    response = submit(client, f"/admin/users/{clerk.id}/edit",
                      edit_data(clerk, department_id=str(world.transport.id)))
    assert response.status_code == 422
    assert submit(client, f"/admin/users/{clerk.id}/edit",
                  edit_data(clerk, department_id=str(world.urban.id))).status_code == 302
    # The handler keeps the department it already has.
    url = f"/admin/users/{handler.id}/edit"
    assert submit(client, url, edit_data(handler, display_name="新名字")).status_code == 302
    assert get_user(database, handler.id).department_id == world.transport.id


def test_client_accounts_are_not_edited_here(client, admin, database):
    citizen = make_user(database, Role.CITIZEN)
    assert client.get(f"/admin/users/{citizen.id}/edit").status_code == 404
    for step in ("disable", "enable", "force-reset"):
        assert post(client, f"/admin/users/{citizen.id}/{step}").status_code == 404
    assert get_user(database, citizen.id).active
    assert client.get("/admin/users/999999/edit").status_code == 404


def test_only_admins_reach_the_staff_pages(client, login_as, database):
    clerk = make_user(database, Role.CLERK)
    login_as(Role.SUPERVISOR)
    assert client.get(f"/admin/users/{clerk.id}/edit").status_code == 403
    assert post(client, f"/admin/users/{clerk.id}/disable").status_code == 403
    assert client.get("/admin/activity").status_code == 403
    assert get_user(database, clerk.id).active


# --- disable, enable ------------------------------------------------------------------------


def test_disabling_ends_every_session_and_refuses_sign_in(client, admin, database):
    clerk = make_user(database, Role.CLERK)
    elsewhere = database.test_client()
    assert sign_in(elsewhere, clerk.username).status_code == 302
    assert elsewhere.get("/queues/unassigned").status_code == 200
    response = post(client, f"/admin/users/{clerk.id}/disable")
    assert response.status_code == 302
    assert not get_user(database, clerk.id).active
    assert elsewhere.get("/queues/unassigned").headers["Location"].startswith("/login")
    in_english(elsewhere)
    refused = sign_in(elsewhere, clerk.username)
    assert refused.status_code == 422 and "This account is disabled." in refused.get_data(
        as_text=True)
    (row,) = actions(database, "user.disable")
    assert row.target_id == clerk.id and row.details == {"active": [True, False],
                                                        "sessions_ended": 1}


def test_enabling_lets_the_account_sign_in_again(client, admin, database):
    clerk = make_user(database, Role.CLERK, active=False)
    html = client.get(f"/admin/users/{clerk.id}/edit").get_data(as_text=True)
    assert f"/admin/users/{clerk.id}/enable" in html and "/disable" not in html
    assert post(client, f"/admin/users/{clerk.id}/enable").status_code == 302
    assert get_user(database, clerk.id).active
    assert sign_in(database.test_client(), clerk.username).status_code == 302
    (row,) = actions(database, "user.enable")
    assert row.details == {"active": [False, True]}


def test_an_admin_cannot_disable_demote_or_reset_themself(client, admin, database):
    make_user(database, Role.ADMIN)  # another admin: the self rule, not the last-admin one
    me = get_user(database, admin.id)
    in_english(client)
    response = post(client, f"/admin/users/{me.id}/disable")
    assert response.status_code == 409
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    response = post(client, f"/admin/users/{me.id}/force-reset")
    assert response.status_code == 409
    response = submit(client, f"/admin/users/{me.id}/edit", edit_data(me, role="clerk"))
    assert response.status_code == 422
    assert "You cannot take the administrator role from yourself." in response.get_data(
        as_text=True)
    me = get_user(database, admin.id)
    assert me.active and me.role is Role.ADMIN and not me.must_change_password
    assert client.get("/admin/").status_code == 200  # still signed in
    assert actions(database) == []


def test_the_last_active_admin_stays(database, world):
    admin = make_user(database, Role.ADMIN)
    supervisor = make_user(database, Role.SUPERVISOR)
    with database.test_request_context(), force_locale("en"):
        target = db.session.get(User, admin.id)
        actor = db.session.get(User, supervisor.id)
        with pytest.raises(DomainError, match="last active administrator"):
            disable_staff(target, actor)
        with pytest.raises(DomainError, match="last active administrator"):
            update_staff(target, StaffData(display_name="x", role=Role.CLERK), actor)
        db.session.rollback()
    # With a second active admin, one of them may go.
    other = make_user(database, Role.ADMIN)
    with database.test_request_context():
        target = db.session.get(User, admin.id)
        disable_staff(target, db.session.get(User, other.id))
        db.session.commit()
    assert not get_user(database, admin.id).active


# --- a forced password change ---------------------------------------------------------------


def test_forced_reset_makes_the_next_sign_in_change_the_password(client, admin, database):
    clerk = make_user(database, Role.CLERK, email="clerk@gov.example.cn")
    elsewhere = database.test_client()
    sign_in(elsewhere, clerk.username)
    response = post(client, f"/admin/users/{clerk.id}/force-reset", {"send_link": "y"})
    assert response.status_code == 302
    assert get_user(database, clerk.id).must_change_password
    # Signed out everywhere, and a reset link went out by e-mail.
    assert elsewhere.get("/queues/unassigned").headers["Location"].startswith("/login")
    with database.app_context():
        mails = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_id == clerk.id)).all()
        assert [m.event for m in mails] == ["password_reset"]
    (row,) = actions(database, "user.force_reset")
    assert row.details == {"sessions_ended": 1, "reset_link_sent": True}
    # The next sign-in lands on the password page, and so does every other page.
    landed = sign_in(elsewhere, clerk.username)
    assert landed.status_code == 302
    for url in ("/", "/queues/unassigned", "/inbox", landed.headers["Location"]):
        response = elsewhere.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/account/password", url
    assert elsewhere.get("/account/password").status_code == 200
    static = elsewhere.get("/static/css/portal.css")
    assert static.status_code == 200
    static.close()
    changed = submit(elsewhere, "/account/password", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert changed.status_code == 302
    assert not get_user(database, clerk.id).must_change_password
    assert elsewhere.get("/queues/unassigned").status_code == 200


def test_forced_reset_without_a_link_and_sign_out_is_allowed(client, admin, database):
    clerk = make_user(database, Role.CLERK)  # no e-mail address: no link offered
    html = client.get(f"/admin/users/{clerk.id}/edit").get_data(as_text=True)
    assert 'name="send_link"' not in html
    assert post(client, f"/admin/users/{clerk.id}/force-reset").status_code == 302
    (row,) = actions(database, "user.force_reset")
    assert row.details == {"sessions_ended": 0, "reset_link_sent": False}
    elsewhere = database.test_client()
    sign_in(elsewhere, clerk.username)
    assert elsewhere.get("/").headers["Location"] == "/account/password"
    out = elsewhere.post("/logout", data={"csrf_token": csrf_token(elsewhere,
                                                                    "/account/password")})
    assert out.status_code == 302 and out.headers["Location"] == "/"


# --- the record -----------------------------------------------------------------------------


def test_creating_a_user_and_signing_out_are_recorded(client, admin, world, database):
    response = submit(client, "/admin/users/new", {
        "username": "new_handler", "display_name": "新办理员", "role": "handler",
        "department": str(world.urban.id), "email": "", "password": NEW_PASSWORD,
    })
    assert response.status_code == 302
    created = actions(database, "user.create")
    assert len(created) == 1
    details = created[0].details
    assert details["username"] == "new_handler" and details["role"] == "handler"
    assert details["department_id"] == world.urban.id
    assert not any("password" in key for key in details)
    assert NEW_PASSWORD not in repr(details)
    user_id = created[0].target_id
    assert post(client, f"/admin/users/{user_id}/sign-out").status_code == 302
    (signed_out,) = actions(database, "user.sign_out")
    assert signed_out.target_id == user_id and signed_out.details == {"sessions_ended": 0}


def test_department_and_district_changes_are_recorded(client, admin, world, database):
    submit(client, "/admin/departments/new",
           {"code": "water", "name_zh": "水务集团", "name_en": "Water", "is_active": "y"})
    submit(client, f"/admin/departments/{world.urban.id}/edit",
           {"code": "urban", "name_zh": "城管局", "name_en": "Urban Management Bureau"})
    submit(client, "/admin/districts/new",
           {"code": "cangshan", "name_zh": "仓山区", "name_en": "", "position": "3"})
    submit(client, f"/admin/districts/{world.gulou.id}/edit",
           {"code": "gulou", "name_zh": "鼓楼区", "name_en": "Gulou District", "position": "5"})
    rows = {row.action: row for row in actions(database)}
    assert set(rows) == {"department.create", "department.update", "district.create",
                         "district.update"}
    assert rows["department.create"].details["name_zh"] == "水务集团"
    assert rows["department.update"].details == {"name_zh": ["城市管理局", "城管局"],
                                                 "is_active": [True, False]}
    assert rows["district.update"].target_id == world.gulou.id
    assert rows["district.update"].details == {"position": [1, 5]}


def test_activity_page_renders_the_record_in_the_readers_language(
    client, admin, world, database
):
    clerk = make_user(database, Role.CLERK, username="clerk_zhou", display_name="周受理")
    other = make_user(database, Role.OFFICIAL, username="official_wu")
    submit(client, f"/admin/users/{clerk.id}/edit",
           edit_data(clerk, role="handler", department_id=str(world.urban.id)))
    post(client, f"/admin/users/{other.id}/disable")

    zh = client.get("/admin/activity").get_data(as_text=True)
    assert "城市管理局" in zh and "周受理 (clerk_zhou)" in zh and "official_wu" in zh
    assert "管理员甲" in zh  # who did it
    assert "urban" not in zh.split("<main", 1)[-1].replace("Urban", "")  # a name, not an id
    in_english(client)
    en = client.get("/admin/activity").get_data(as_text=True)
    assert "Changed the account" in en and "Disabled the account" in en
    assert "Intake clerk" in en and "Handler" in en and "Urban Management Bureau" in en
    assert "Department" in en and "Role" in en
    # One account's history only.
    mine = client.get(f"/admin/activity?user={clerk.id}").get_data(as_text=True)
    assert "Changed the account" in mine and "Disabled the account" not in mine
    # And on the account's page.
    page = client.get(f"/admin/users/{clerk.id}/edit").get_data(as_text=True)
    assert "Recent changes" in page and "Urban Management Bureau" in page
    assert f"/admin/activity?user={clerk.id}" in page


def test_activity_page_has_pages(client, admin, database):
    clerk = make_user(database, Role.CLERK)
    for _i in range(25):
        post(client, f"/admin/users/{clerk.id}/sign-out")
    first = client.get("/admin/activity").get_data(as_text=True)
    assert 'rel="next"' in first
    second = client.get("/admin/activity?page=2").get_data(as_text=True)
    assert 'rel="prev"' in second


def test_any_new_password_clears_the_forced_change(client, admin, database):
    """The reset link works too, and so does any other way the password hash changes."""
    from portal.auth.passwords import hash_password, reset_token

    clerk = make_user(database, Role.CLERK, email="c@gov.example.cn")
    post(client, f"/admin/users/{clerk.id}/force-reset", {"send_link": "y"})
    with database.test_request_context():
        token = reset_token(db.session.get(User, clerk.id))
    browser = database.test_client()
    done = submit(browser, f"/reset/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert not get_user(database, clerk.id).must_change_password
    assert sign_in(browser, clerk.username, NEW_PASSWORD).status_code == 302
    assert browser.get("/queues/unassigned").status_code == 200
    # A script setting the hash directly (the before_flush hook of portal.auth.hooks).
    with database.test_request_context():
        user = db.session.get(User, clerk.id)
        user.must_change_password = True
        db.session.commit()
        user.password_hash = hash_password("Another-Long-Passphrase-71")
        db.session.commit()
        assert not db.session.get(User, clerk.id).must_change_password
