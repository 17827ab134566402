"""Password strength (issue 10, item 7): zxcvbn's estimate wherever a password is set,
every problem shown at once, the account's own words counted as guessable."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

from portal.auth.passwords import PasswordRefused, reset_token
from portal.auth.services import create_staff_user
from portal.db import db
from portal.models import Role, User
from tests.conftest import sign_in, submit
from tests.factories import PASSWORD, make_user

EN = {"Accept-Language": "en"}
ERRORS = re.compile(r'<ul class="errors" id="([\w-]+)-errors">(.*?)</ul>', re.S)
STRONG = "Tulip-harbour-lantern-7"


def field_errors(page: str) -> dict[str, list[str]]:
    """Each field's error messages on a rendered form page."""
    return {
        name: [htmllib.unescape(m) for m in re.findall(r"<li>(.*?)</li>", items, re.S)]
        for name, items in ERRORS.findall(page)
    }


def registration(**change) -> dict:
    data = {"kind": "citizen", "name": "张伟", "username": "zhangwei88", "password": STRONG,
            "confirm": STRONG, "phone": "13812345678", "email": ""}
    return {**data, **change}


def test_a_weak_registration_password_shows_every_problem_at_once(client, database):
    response = submit(client, "/register", registration(password="1234567", confirm="1234568"),
                      headers=EN)
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert errors["password"] == [
        "The password needs at least 8 characters.",
        "This password is too easy to guess. Use a longer one: a few uncommon words, "
        "or letters mixed with digits and symbols.",
        "This is one of the most common passwords.",
    ]
    assert errors["confirm"] == ["The passwords differ."]
    with database.app_context():
        assert db.session.scalar(select(User).where(User.username == "zhangwei88")) is None


def test_12345678_is_refused_though_long_enough(client, database):
    response = submit(client, "/register", registration(password="12345678", confirm="12345678"),
                      headers=EN)
    assert response.status_code == 422
    problems = field_errors(response.get_data(as_text=True))["password"]
    assert "The password needs at least 8 characters." not in problems
    assert "This is one of the most common passwords." in problems


def test_a_password_made_of_the_own_username_is_refused(client, database):
    response = submit(client, "/register", registration(
        username="lantern2026", password="lantern2026", confirm="lantern2026"), headers=EN)
    assert response.status_code == 422
    problems = field_errors(response.get_data(as_text=True))["password"]
    assert "Do not use your username, name, e-mail or phone number in the password." in problems


def test_a_strong_password_registers(client, database):
    response = submit(client, "/register", registration(), headers=EN)
    assert response.status_code == 302


def test_changing_to_a_weak_password_is_refused(client, database, login_as):
    user = login_as("citizen")
    data = {"current_password": PASSWORD, "password": "password1", "confirm": "password1"}
    response = submit(client, "/account/password", data, headers=EN)
    assert response.status_code == 422
    assert "This is one of the most common passwords." in field_errors(
        response.get_data(as_text=True))["password"]
    # Nor may the new password be the account's own username.
    own = f"{user.username}{user.username}"
    data = {"current_password": PASSWORD, "password": own, "confirm": own}
    response = submit(client, "/account/password", data, headers=EN)
    assert response.status_code == 422
    data = {"current_password": PASSWORD, "password": STRONG, "confirm": STRONG}
    assert submit(client, "/account/password", data).status_code == 302


def test_a_reset_link_refuses_a_weak_password_and_the_account_name(client, database):
    user = make_user(database, Role.CITIZEN, username="lanterns", name="灯笼")
    with database.app_context():
        token = reset_token(db.session.get(User, user.id))
    url = f"/reset/{token}"
    weak = submit(client, url, {"password": "zxcvbnm,.", "confirm": "zxcvbnm,."}, headers=EN)
    assert weak.status_code == 422
    assert "Rows and patterns of neighbouring keys are easy to guess." in field_errors(
        weak.get_data(as_text=True))["password"]
    own = submit(client, url, {"password": "lanterns1", "confirm": "lanterns1"}, headers=EN)
    assert own.status_code == 422
    assert submit(client, url, {"password": STRONG, "confirm": STRONG}).status_code == 302
    assert sign_in(client, "lanterns", STRONG).status_code == 302


def test_staff_accounts_get_strong_passwords_too(database):
    with database.app_context(), pytest.raises(PasswordRefused) as refused:
        create_staff_user(username="clerk9", password="clerk9clerk9", role=Role.CLERK,
                          display_name="王芳")
    assert len(refused.value.messages) >= 2 and refused.value.field == "password"


def test_the_score_needed_is_configurable(client, database, monkeypatch):
    monkeypatch.setitem(database.config, "PASSWORD_MIN_SCORE", 4)
    data = registration(password="a-long-password", confirm="a-long-password")
    assert submit(client, "/register", data, headers=EN).status_code == 422
    monkeypatch.setitem(database.config, "PASSWORD_MIN_SCORE", 3)
    assert submit(client, "/register", data, headers=EN).status_code == 302
