"""Registration, sign-in, throttling, rate limits, safe redirects and staff accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from citizens.models import Client, ClientKind
from portal.auth.services import safe_next_url
from portal.db import db
from portal.models import Role, User
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import PASSWORD, make_user

REGISTRATION = {
    "kind": "citizen",
    "name": "张三",
    "username": "zhangsan",
    "password": "a-long-password",
    "confirm": "a-long-password",
    "phone": "13800138000",
    "email": "zhangsan@example.org",
}


def users_named(app, username):
    with app.app_context():
        return db.session.scalars(select(User).where(User.username == username)).all()


def test_citizen_registers_and_is_signed_in(client, database):
    response = submit(client, "/register", REGISTRATION)
    assert response.status_code == 302 and response.headers["Location"] == "/requests"
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "zhangsan"))
        assert user.role == Role.CITIZEN
        assert user.password_hash != "a-long-password" and user.password_hash.startswith("pbkdf2")
        assert user.client.kind == ClientKind.CITIZEN and user.client.name == "张三"
    assert client.get("/requests").status_code == 200


def test_enterprise_registers_with_a_contact_person(client, database):
    data = {
        **REGISTRATION,
        "kind": "enterprise",
        "name": "福州某某科技有限公司",
        "contact_person": "李四",
        "username": "firm1",
        "credit_code": "91110108551385082q",
    }
    assert submit(client, "/register", data).status_code == 302
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "firm1"))
        assert user.role == Role.ENTERPRISE and user.client.contact_person == "李四"
        assert user.client.credit_code == "91110108551385082Q"


@pytest.mark.parametrize("code", ["", "91110108551385082A", "12345"])
def test_enterprise_needs_a_valid_credit_code(client, database, code):
    data = {
        **REGISTRATION,
        "kind": "enterprise",
        "name": "某公司",
        "contact_person": "李四",
        "username": "firm2",
        "credit_code": code,
    }
    response = submit(client, "/register", data)
    assert response.status_code == 422
    assert 'id="credit_code-errors"' in response.get_data(as_text=True)
    assert users_named(database, "firm2") == []


def test_a_second_representative_joins_the_enterprise_through_a_merge(client, login_as, database):
    """Both representatives register; the duplicate finder pairs the records by credit code
    and a clerk merges them, so the enterprise has one record and two accounts."""
    for username, person in (("firm-a", "李四"), ("firm-b", "王五")):
        data = {
            **REGISTRATION,
            "kind": "enterprise",
            "name": "福州某某科技有限公司",
            "contact_person": person,
            "username": username,
            "credit_code": "91110108551385082Q",
            "email": f"{username}@example.org",
        }
        assert submit(database.test_client(), "/register", data).status_code == 302
    with database.app_context():
        first, second = (
            db.session.scalar(select(User).where(User.username == u)) for u in ("firm-a", "firm-b")
        )
        survivor, other = first.client_id, second.client_id
    login_as(Role.CLERK)
    assert "91110108551385082Q" not in client.get("/clients/duplicates").get_data(as_text=True)
    assert f"/clients/{survivor}/merge" in client.get("/clients/duplicates").get_data(
        as_text=True
    ) or f"/clients/{other}/merge" in client.get("/clients/duplicates").get_data(as_text=True)
    response = submit(
        client,
        f"/clients/{survivor}/merge?other={other}",
        {"other": str(other), "reason": "同一企业的两位联系人"},
    )
    assert response.status_code == 302
    with database.app_context():
        accounts = db.session.scalars(select(User).where(User.client_id == survivor)).all()
        assert {u.username for u in accounts} == {"firm-a", "firm-b"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12345", "email": ""}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"confirm": "something-else"}, "confirm"),
        ({"password": "short", "confirm": "short"}, "password"),
        ({"username": "a b"}, "username"),
        ({"phone": "", "email": ""}, "phone"),
        ({"kind": "enterprise", "contact_person": ""}, "contact_person"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_registration_gets_a_message_per_field(client, database, change, field):
    response = submit(client, "/register", {**REGISTRATION, **change})
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert users_named(database, REGISTRATION["username"]) == []
    with database.app_context():
        assert db.session.scalars(select(Client)).all() == []


def test_registration_refuses_a_taken_username(client, database):
    make_user(database, Role.CITIZEN, username="zhangsan")
    response = submit(client, "/register", REGISTRATION)
    assert response.status_code == 422
    assert 'id="username-errors"' in response.get_data(as_text=True)
    assert len(users_named(database, "zhangsan")) == 1


def test_login_form_has_the_fixed_field_names(client, database):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html
    assert '<label for="username">' in html


def test_login_and_logout(client, database):
    user = make_user(database, Role.CLERK)
    response = sign_in(client, user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/queues/unassigned"
    assert client.get("/queues/unassigned").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/queues/unassigned").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, database):
    user = make_user(database, Role.CLERK)
    response = sign_in(client, user.username)
    cookie = next(
        v
        for k, v in response.headers.items()
        if k == "Set-Cookie" and v.startswith("portal_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_wrong_password_gets_a_message(client, database):
    user = make_user(database, Role.CLERK)
    response = sign_in(client, user.username, "wrong-password")
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_unknown_user_gets_the_same_message(client, database):
    response = sign_in(client, "nobody", "wrong-password")
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_sign_in_is_throttled_after_repeated_failures(client, database):
    """Throttled per address and name (tests/test_login_throttle.py has the details)."""
    user = make_user(database, Role.CLERK)
    for _ in range(database.config["LOGIN_LOCKOUT_THRESHOLD"]):
        assert sign_in(client, user.username, "wrong-password").status_code == 422
    # Even the right password is refused from this address while the throttle lasts.
    response = sign_in(client, user.username, PASSWORD, headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert client.get("/queues/unassigned").status_code == 302


def test_disabled_account_cannot_sign_in(client, database):
    user = make_user(database, Role.CLERK, active=False)
    assert sign_in(client, user.username).status_code == 422


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/requests", "/requests"),
        ("/cases/2026-000001?x=1", "/cases/2026-000001?x=1"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("requests", None),
        ("", None),
    ],
)
def test_safe_next_url(target, expected):
    assert safe_next_url(target) == expected


def test_login_follows_next_only_inside_the_site(client, database):
    user = make_user(database, Role.CLERK)
    response = submit(
        client,
        "/login?next=/admin/users",
        {"username": user.username, "password": PASSWORD, "next": "/requests"},
    )
    assert response.headers["Location"] == "/requests"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    response = submit(
        client,
        "/login",
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example/steal"},
    )
    assert response.headers["Location"] == "/queues/unassigned"


def test_login_page_carries_next_from_the_query(client, database):
    html = client.get("/login?next=/requests/new").get_data(as_text=True)
    assert 'value="/requests/new"' in html


@pytest.fixture
def tight_limits(database):
    saved = {k: database.config[k] for k in ("LOGIN_RATE_LIMIT", "REGISTER_RATE_LIMIT")}
    database.config.update(LOGIN_RATE_LIMIT="3 per minute", REGISTER_RATE_LIMIT="2 per hour")
    yield database
    database.config.update(saved)


def test_login_is_rate_limited(client, tight_limits):
    codes = [sign_in(client, "nobody", "x").status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    response = sign_in(client, "nobody", "x")
    assert response.status_code == 429 and "尝试次数过多" in response.get_data(as_text=True)
    # Reading the form is not limited, only posting it.
    assert client.get("/login").status_code == 200


def test_registration_is_rate_limited(client, tight_limits):
    codes = [
        submit(client, "/register", {**REGISTRATION, "username": f"u{i}"}).status_code
        for i in range(3)
    ]
    assert codes[-1] == 429


def test_admin_creates_a_staff_account(client, login_as, world, database):
    login_as(Role.ADMIN)
    response = submit(
        client,
        "/admin/users/new",
        {
            "username": "handler-li",
            "display_name": "李承办",
            "role": "handler",
            "department": str(world.urban.id),
            "email": "",
            "password": "initial-pass-1",
        },
    )
    assert response.status_code == 302
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "handler-li"))
        assert user.role == Role.HANDLER and user.department_id == world.urban.id
    assert "handler-li" in client.get("/admin/users").get_data(as_text=True)


def test_handler_needs_a_department(client, login_as, world, database):
    login_as(Role.ADMIN)
    response = submit(
        client,
        "/admin/users/new",
        {
            "username": "handler-x",
            "display_name": "无部门",
            "role": "handler",
            "department": "0",
            "password": "initial-pass-1",
        },
    )
    assert response.status_code == 422
    assert 'id="department-errors"' in response.get_data(as_text=True)
    assert users_named(database, "handler-x") == []


def test_only_admins_manage_staff(client, login_as, world):
    login_as(Role.SUPERVISOR)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403


def test_clients_cannot_be_created_as_staff(client, login_as, world):
    login_as(Role.ADMIN)
    response = submit(
        client,
        "/admin/users/new",
        {
            "username": "x-citizen",
            "display_name": "x",
            "role": "citizen",
            "password": "long-enough",
        },
    )
    assert response.status_code == 422


def test_a_disabled_account_is_signed_out_at_once(client, database):
    user = make_user(database, Role.CLERK)
    sign_in(client, user.username)
    assert client.get("/queues/unassigned").status_code == 200
    with database.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert client.get("/queues/unassigned").status_code == 302
