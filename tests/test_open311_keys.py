"""Open311 keys: the admin pages (list, issue with the secret shown once, revoke, the use
log a page at a time), ``flask api-key create``, and only a keyed hash kept."""

from __future__ import annotations

import re

from sqlalchemy import select

from cases.open311.keys import find_key, key_hash
from cases.open311.models import ApiKey, ApiKeyUse
from portal.db import db, utcnow
from portal.models import AdminAction, Role
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_user, make_world
from tests.open311_support import make_key

SECRET_RE = re.compile(r'value="(o311_[^"]+)"')


def admin_client(app):
    admin = make_user(app, Role.ADMIN)
    browser = app.test_client()
    sign_in(browser, admin.username)
    return browser


def test_issue_a_key_its_secret_shown_once(app, database):
    browser = admin_client(app)
    assert "Open311" in browser.get("/admin/").get_data(as_text=True)  # on the overview
    page = submit(browser, "/admin/api-keys/new",
                  {"name": "城管通 App", "scopes": ["post"], "rate_limit": "30"})
    assert page.status_code == 200
    secret = SECRET_RE.search(page.get_data(as_text=True)).group(1)
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert (key.name, key.scopes, key.rate_limit) == ("城管通 App", "post", 30)
        assert key.key_hash == key_hash(secret) and secret not in key.key_hash
        assert secret.startswith(key.prefix) and len(key.prefix) < len(secret) // 3
        assert find_key(secret).id == key.id
        assert db.session.scalar(select(AdminAction.action)) == "api_key.create"
    listing = browser.get("/admin/api-keys").get_data(as_text=True)
    assert key.prefix in listing and "城管通 App" in listing
    assert secret not in listing  # never shown again


def test_the_form_refuses_what_is_wrong(app, database):
    browser = admin_client(app)
    assert submit(browser, "/admin/api-keys/new", {"name": "", "rate_limit": "0"}
                  ).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(ApiKey)) is None


def test_revoke_a_key(app, database):
    make_world(app)
    secret = make_key(app, name="old app")
    browser = admin_client(app)
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
    token = csrf_token(browser, "/admin/api-keys")
    answer = browser.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert answer.status_code == 302
    with app.app_context():
        key = db.session.get(ApiKey, key_id)
        assert key.revoked_at is not None and key.revoked_by_id is not None
    refused = app.test_client().post("/open311/v2/requests.json", data={
        "api_key": secret, "service_code": "city.noise", "lat": "1", "long": "1"})
    assert refused.status_code == 403
    again = browser.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert again.status_code == 302  # said on the page, nothing changes
    assert browser.post(f"/admin/api-keys/{key_id}/revoke").status_code == 400  # no CSRF


def test_the_use_log_a_page_at_a_time(app, database):
    make_world(app)
    make_key(app)
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        db.session.add_all([
            ApiKeyUse(api_key_id=key.id, used_at=utcnow(), method="GET",
                      path=f"/open311/v2/requests.json?n={n}", status=200)
            for n in range(25)
        ])
        db.session.commit()
        key_id = key.id
    browser = admin_client(app)
    first = browser.get(f"/admin/api-keys/{key_id}/uses").get_data(as_text=True)
    second = browser.get(f"/admin/api-keys/{key_id}/uses?page=2").get_data(as_text=True)
    assert first.count("/open311/v2/requests.json") == 20
    assert second.count("/open311/v2/requests.json") == 5
    assert "25" in browser.get("/admin/api-keys").get_data(as_text=True)  # the use count


def test_only_admins(app, database):
    make_world(app)
    for role in (Role.CLERK, Role.SUPERVISOR, Role.CITIZEN):
        user = make_user(app, role)
        browser = app.test_client()
        sign_in(browser, user.username)
        assert browser.get("/admin/api-keys").status_code == 403
    assert app.test_client().get("/admin/api-keys").status_code == 302  # to the sign-in


def test_the_command_prints_a_working_key(app, database):
    make_world(app)
    result = app.test_cli_runner().invoke(
        args=["api-key", "create", "hotline bridge", "--scope", "post", "--rate-limit", "30"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("o311_")
    with app.app_context():
        key = find_key(secret)
        assert (key.name, key.scopes, key.rate_limit) == ("hotline bridge", "post", 30)
    posted = app.test_client().post("/open311/v2/requests.json", data={
        "api_key": secret, "service_code": "city.noise", "lat": "26.1", "long": "119.3"})
    assert posted.status_code == 200
    bad = app.test_cli_runner().invoke(args=["api-key", "create", " "])
    assert bad.exit_code != 0
