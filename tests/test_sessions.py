"""Server-side sessions: signing out, a new password, an admin or a disabled account end them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.auth.passwords import reset_token
from portal.auth.sessions import KEEP_ENDED
from portal.db import db
from portal.models import Role, User, UserSession
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import PASSWORD, make_user

COOKIE = "portal_session"


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def signed_in(client: FlaskClient, url: str = "/account") -> bool:
    return client.get(url).status_code == 200


def sessions_of(app: Flask, user_id: int) -> list[UserSession]:
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        ).all()
        db.session.expunge_all()
        return rows


def logout(client: FlaskClient):
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_the_cookie_carries_a_random_token_stored_hashed(client, database):
    user = make_user(database, Role.CITIZEN)
    sign_in(client, user.username, headers={"User-Agent": "TestBrowser/1.0"})
    serializer = database.session_interface.get_signing_serializer(database)
    token = serializer.loads(client.get_cookie(COOKIE).value)["_user_id"]
    assert token != str(user.id) and len(token) >= 40
    (row,) = sessions_of(database, user.id)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.revoked_at is None and row.user_agent == "TestBrowser/1.0"
    assert row.expires_at > row.created_at


def test_a_cookie_copied_before_logout_opens_nothing_after(client, database):
    user = make_user(database, Role.CITIZEN)
    sign_in(client, user.username)
    stolen = copy_of(client, database)
    assert signed_in(stolen)
    assert logout(client).status_code == 302
    response = stolen.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert sessions_of(database, user.id)[0].revoked_at is not None


def test_a_password_change_ends_the_other_sessions_only(client, database):
    user = make_user(database, Role.CITIZEN)
    other = database.test_client()
    sign_in(other, user.username)
    sign_in(client, user.username)
    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "a-new-password", "confirm": "a-new-password"},
    )
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(other)


def test_a_reset_link_ends_every_session(client, database):
    user = make_user(database, Role.CITIZEN)
    laptop, phone = database.test_client(), database.test_client()
    sign_in(laptop, user.username)
    sign_in(phone, user.username)
    with database.app_context():
        token = reset_token(db.session.get(User, user.id))
    response = submit(
        client, f"/reset/{token}", {"password": "a-new-password", "confirm": "a-new-password"}
    )
    assert response.status_code == 302
    assert not signed_in(laptop) and not signed_in(phone)
    assert all(row.revoked_at is not None for row in sessions_of(database, user.id))
    assert sign_in(client, user.username, "a-new-password").status_code == 302


def test_an_admin_signs_an_account_out_everywhere(client, database, login_as):
    clerk = make_user(database, Role.CLERK)
    desk, home = database.test_client(), database.test_client()
    sign_in(desk, clerk.username)
    sign_in(home, clerk.username)
    assert signed_in(desk, "/queues/unassigned")
    login_as(Role.ADMIN)
    assert f"/admin/users/{clerk.id}/sign-out" in client.get("/admin/users").get_data(
        as_text=True
    )
    response = submit(client, "/admin/users", {}, action=f"/admin/users/{clerk.id}/sign-out")
    assert response.status_code == 302
    assert not signed_in(desk, "/queues/unassigned") and not signed_in(home, "/queues/unassigned")
    assert signed_in(client, "/admin/users")  # the admin's own session is untouched
    # The clerk signs in again as usual.
    assert sign_in(desk, clerk.username).status_code == 302


def test_sign_out_everywhere_needs_an_admin_and_a_csrf_token(client, database, login_as):
    clerk = make_user(database, Role.CLERK)
    desk = database.test_client()
    sign_in(desk, clerk.username)
    login_as(Role.SUPERVISOR)
    response = submit(client, "/", {}, action=f"/admin/users/{clerk.id}/sign-out")
    assert response.status_code == 403
    login_as(Role.ADMIN)
    assert client.post(f"/admin/users/{clerk.id}/sign-out").status_code == 400
    assert submit(client, "/", {}, action="/admin/users/999999/sign-out").status_code == 404
    assert signed_in(desk, "/queues/unassigned")


def test_an_admin_signing_out_themselves_keeps_this_browser(client, database, login_as):
    admin = login_as(Role.ADMIN)
    elsewhere = database.test_client()
    sign_in(elsewhere, admin.username)
    submit(client, "/admin/users", {}, action=f"/admin/users/{admin.id}/sign-out")
    assert signed_in(client, "/admin/users")
    assert not signed_in(elsewhere, "/admin/users")


def test_a_disabled_account_stays_signed_out_when_enabled_again(client, database):
    user = make_user(database, Role.CLERK)
    sign_in(client, user.username)
    assert signed_in(client, "/queues/unassigned")
    for active in (False, True):
        with database.app_context():
            db.session.get(User, user.id).active = active
            db.session.commit()
        assert not signed_in(client, "/queues/unassigned")
    assert sessions_of(database, user.id)[0].revoked_at is not None


def test_a_session_expires_on_the_server(client, database):
    user = make_user(database, Role.CITIZEN)
    sign_in(client, user.username)
    lifetime = database.config["PERMANENT_SESSION_LIFETIME"]
    with time_machine.travel(datetime.now(UTC) + lifetime - timedelta(minutes=1), tick=False):
        assert signed_in(client)
    with time_machine.travel(datetime.now(UTC) + lifetime + timedelta(minutes=1), tick=False):
        assert not signed_in(client)


def test_activity_is_recorded_at_most_every_few_minutes(client, database):
    user = make_user(database, Role.CITIZEN)
    sign_in(client, user.username)
    first = sessions_of(database, user.id)[0].last_seen_at
    assert signed_in(client)
    assert sessions_of(database, user.id)[0].last_seen_at == first
    later = datetime.now(UTC) + timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        assert signed_in(client)
    seen = sessions_of(database, user.id)[0].last_seen_at
    assert abs((seen - later).total_seconds()) < 1


def test_ended_sessions_are_pruned_at_the_next_sign_in(client, database):
    user = make_user(database, Role.CITIZEN)
    sign_in(client, user.username)
    logout(client)
    assert len(sessions_of(database, user.id)) == 1
    with time_machine.travel(datetime.now(UTC) + KEEP_ENDED + timedelta(days=1), tick=False):
        sign_in(client, user.username)
        rows = sessions_of(database, user.id)
    assert len(rows) == 1 and rows[0].revoked_at is None


def test_a_session_opens_nothing_in_another_browser(client, database):
    user = make_user(database, Role.CITIZEN)
    sign_in(client, user.username, headers={"User-Agent": "TestBrowser/1.0"})
    assert client.get("/account", headers={"User-Agent": "TestBrowser/1.0"}).status_code == 200
    stolen = copy_of(client, database)
    response = stolen.get("/account", headers={"User-Agent": "OtherBrowser/2.0"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_visitor_cookie_is_signed_once_not_on_every_page(client, database):
    # Session protection has nothing to protect in a session without a sign-in: it must not
    # mark it changed (and so re-sign and resend the cookie) on every page.
    first = client.get("/")
    assert any(h.startswith(f"{COOKIE}=") for h in first.headers.getlist("Set-Cookie"))
    again = client.get("/")
    assert again.status_code == 200 and again.headers.getlist("Set-Cookie") == []
    user = make_user(database, Role.CITIZEN)
    assert sign_in(client, user.username).status_code == 302  # the first page's token holds
    assert signed_in(client)
