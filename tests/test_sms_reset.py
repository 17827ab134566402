"""Password recovery by SMS code (issue 10, item 6): for phone-only clients and staff with
a mobile; single-use codes, counted guesses, rate limits, nothing to enumerate."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from citizens.models import PhoneCode
from portal.db import db
from portal.models import Role, User
from portal.notifications.models import MessageChannel, OutboxMessage
from portal.sealing import OUTBOX, unseal
from tests.conftest import CSRF_RE, sign_in, submit
from tests.factories import PASSWORD, make_user

EN = {"Accept-Language": "en"}
SMS_CODE = re.compile(r"\b(\d{6})\b")
NEW = "Violet-harbour-kettle-42"
WRONG = "This code is not right or no longer valid."


@pytest.fixture(autouse=True)
def quiet_outbox(database, monkeypatch):
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", False)
    monkeypatch.setitem(database.config, "RESET_RATE_LIMIT", "1000 per minute")
    monkeypatch.setitem(database.config, "PHONE_CODE_RATE_LIMIT", "1000 per minute")


def register_phone_only(client, username="mobileonly", phone="13911112222") -> None:
    """Register a client with a phone and no e-mail, in a browser of its own."""
    browser = client.application.test_client()
    data = {"kind": "citizen", "name": "李四", "username": username, "password": PASSWORD,
            "confirm": PASSWORD, "phone": phone, "email": ""}
    assert submit(browser, "/register", data).status_code == 302


def reset_codes(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "password_reset_sms")
            .order_by(OutboxMessage.id)
        ).all()
        db.session.expunge_all()
        return rows


def ask_code(client, app, phone: str, username: str = "") -> str | None:
    """Ask for a code; the code the phone got, or None when none went out."""
    before = len(reset_codes(app))
    response = submit(client, "/reset/sms", {"phone": phone, "username": username}, headers=EN)
    assert response.status_code == 200
    assert "If an account has this mobile number" in response.get_data(as_text=True)
    rows = reset_codes(app)
    if len(rows) == before:
        return None
    message = rows[-1]
    assert message.channel == MessageChannel.SMS and message.address == phone
    assert message.body.count("******") == 1  # stored masked, the real text sealed
    with app.app_context():
        return SMS_CODE.search(unseal(message.sealed_body, OUTBOX)).group(1)


def set_password(client, phone: str, code: str, password: str = NEW, username: str = ""):
    data = {"phone": phone, "username": username, "code": code, "password": password,
            "confirm": password}
    return submit(client, "/reset/sms/code", data, headers=EN)


def test_a_phone_only_client_resets_by_sms_and_every_sign_in_ends(client, database):
    register_phone_only(client)
    # Another browser signed in before the reset.
    other = database.test_client()
    assert sign_in(other, "mobileonly").status_code == 302
    assert other.get("/account").status_code == 200
    # The e-mail reset page leads to the SMS one.
    assert 'href="/reset/sms"' in client.get("/reset").get_data(as_text=True)
    code = ask_code(client, database, "13911112222")
    assert code is not None
    weak = set_password(client, "13911112222", code, password="password1")
    assert weak.status_code == 422  # refused before the code is tried: still good
    response = set_password(client, "139 1111 2222", code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert sign_in(client, "mobileonly", PASSWORD).status_code == 422
    assert sign_in(client, "mobileonly", NEW).status_code == 302
    assert other.get("/account").status_code == 302  # signed out
    # The code works once.
    assert set_password(client, "13911112222", code, "Another-fresh-pass-99").status_code == 422
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "mobileonly"))
        assert user.client.phone_verified_at is not None  # the code proved the number
        assert db.session.scalar(select(PhoneCode.purpose)) == "reset"


def test_wrong_codes_are_counted_and_capped(client, database):
    register_phone_only(client)
    code = ask_code(client, database, "13911112222")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = set_password(client, "13911112222", wrong)
        assert response.status_code == 422 and WRONG in response.get_data(as_text=True)
    # Five guesses spend the code, even the right one.
    response = set_password(client, "13911112222", code)
    assert response.status_code == 422 and WRONG in response.get_data(as_text=True)
    assert sign_in(client, "mobileonly", PASSWORD).status_code == 302
    with database.app_context():
        assert db.session.scalar(select(func.sum(PhoneCode.attempts))) == 5


def test_the_answer_is_the_same_whether_or_not_the_account_exists(client, database):
    register_phone_only(client)

    def page(phone: str) -> tuple[int, str]:
        response = submit(client, "/reset/sms", {"phone": phone, "username": ""}, headers=EN)
        return response.status_code, CSRF_RE.sub("", response.get_data(as_text=True))

    known, unknown = page("13911112222"), page("13933334444")
    assert known == (200, unknown[1].replace("13933334444", "13911112222"))
    assert len(reset_codes(database)) == 1
    # Guessing for a number without an account reads like a wrong code.
    response = set_password(client, "13933334444", "123456")
    assert response.status_code == 422 and WRONG in response.get_data(as_text=True)


def test_a_shared_number_needs_the_username(client, database):
    register_phone_only(client, "sharer1", "13955556666")
    register_phone_only(client, "sharer2", "13955556666")
    assert ask_code(client, database, "13955556666") is None
    code = ask_code(client, database, "13955556666", username="sharer2")
    assert set_password(client, "13955556666", code, username="sharer2").status_code == 302
    assert sign_in(client, "sharer2", NEW).status_code == 302
    assert sign_in(database.test_client(), "sharer1", PASSWORD).status_code == 302


def test_staff_with_a_mobile_reset_by_sms(client, database):
    clerk = make_user(database, Role.CLERK, phone="13977778888")
    code = ask_code(client, database, "13977778888")
    assert set_password(client, "13977778888", code).status_code == 302
    assert sign_in(client, clerk.username, NEW).status_code == 302


def test_disabled_accounts_and_landlines_get_no_code(client, database):
    make_user(database, Role.CLERK, phone="13977770000", active=False)
    assert ask_code(client, database, "13977770000") is None
    response = submit(client, "/reset/sms", {"phone": "010-12345678"}, headers=EN)
    assert response.status_code == 422


def test_asking_for_codes_is_rate_limited(client, database, monkeypatch):
    monkeypatch.setitem(database.config, "PHONE_CODE_RATE_LIMIT", "2 per hour")
    register_phone_only(client)
    for _ in range(2):
        ask_code(client, database, "13911112222")
    response = submit(client, "/reset/sms", {"phone": "13911112222"}, headers=EN)
    assert response.status_code == 429
