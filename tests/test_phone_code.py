"""Phone codes are kept and counted on the server: no replayed cookie, no extra guesses;
caps per code, per account and per number; a code proves only its own number, once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.models import CaseType, Channel
from cases.services import CaseRequest, file_case
from citizens.models import Client, ClientKind
from citizens.services import create_client
from portal.db import db
from portal.models import Role, User
from portal.notifications.models import OutboxMessage
from portal.sealing import OUTBOX, unseal
from tests.conftest import submit
from tests.factories import make_user

SMS_CODE = re.compile(r"\b(\d{6})\b")
VERIFY_LINK = re.compile(r"/account/verify-email/[A-Za-z0-9_.\-]+")
SEND = "/account/verify-phone"
CODE = "/account/verify-phone/code"


@pytest.fixture(autouse=True)
def quiet_outbox(database, monkeypatch):
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", False)


def send_code(client) -> str:
    """Ask for a code; returns it as the phone would receive it."""
    response = submit(client, "/account", {}, action=SEND)
    assert response.status_code == 302, response.status_code
    app = client.application
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)
        ).one()
        return SMS_CODE.search(unseal(message.sealed_body, OUTBOX)).group(1)


def profile(phone: str) -> dict:
    return {"name": "王五", "phone": phone, "email": "own@example.org", "notify": "email",
            "locale": "zh_CN"}


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def guess(client, code: str) -> int:
    return submit(client, CODE, {"code": code}).status_code


def client_of(app, username: str) -> Client:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        row = user.client
        db.session.expunge(row)
        return row


def clerk_made_record(app, world, phone: str) -> int:
    clerk = make_user(app, Role.CLERK)
    with app.app_context():
        record = create_client(kind=ClientKind.CITIZEN, name="王五", phone=phone)
        file_case(
            record,
            db.session.get(User, clerk.id),
            CaseRequest(type=CaseType.HELP, category_id=world.noise.id, title="楼道灯坏了两周",
                        description="鼓楼区某小区三号楼楼道灯不亮，老人上下楼不便。",
                        district_id=world.gulou.id, channel=Channel.PHONE),
        )
        db.session.commit()
        return record.id


def test_replaying_the_old_cookie_gives_no_extra_guesses(client, database, login_as):
    user = login_as("citizen", phone="13700137001")
    code = send_code(client)
    replayed = client.get_cookie("portal_session").value
    for _ in range(5):
        client.set_cookie("portal_session", replayed)
        assert guess(client, wrong(code)) == 422
    client.set_cookie("portal_session", replayed)
    assert guess(client, code) == 409  # spent: ask for a new code
    assert client_of(database, user.username).phone_verified_at is None


def test_wrong_guesses_are_capped_per_number_across_accounts(client, database, login_as):
    login_as("citizen", phone="13600136000")
    for attempts in (5, 3):
        code = send_code(client)
        for _ in range(attempts):
            assert guess(client, wrong(code)) == 422
    # Another account with the same number gets only what is left of the day's guesses.
    second = login_as("citizen", phone="13600136000")
    code = send_code(client)
    for _ in range(2):
        assert guess(client, wrong(code)) == 422
    response = submit(client, CODE, {"code": code})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.get_data(as_text=True) or "错误" in (
        response.get_data(as_text=True)
    )
    assert client_of(database, second.username).phone_verified_at is None


def test_codes_sent_are_capped_per_number_and_a_new_code_replaces_the_old(
    client, database, login_as
):
    login_as("citizen", phone="13500135000")
    for _ in range(3):
        send_code(client)
    login_as("citizen", phone="13500135000")
    older, latest = send_code(client), send_code(client)
    # Five codes to this number within the hour, whichever account asked: no sixth.
    assert submit(client, "/account", {}, action=SEND).status_code == 429
    if older != latest:
        assert guess(client, older) == 422  # replaced by the latest
    assert guess(client, latest) == 302


def test_a_code_proves_only_its_number_once(client, database, world, login_as):
    record_id = clerk_made_record(database, world, "13700137000")
    user = login_as("citizen", phone="13700137009", email="own@example.org")
    code = send_code(client)
    # The number changes to the record's after the code was sent: the code is useless.
    assert submit(client, "/account", profile(phone="13700137000")).status_code == 302
    assert guess(client, code) == 409
    assert client_of(database, user.username).phone_verified_at is None
    # Back to the account's own number, proven by a code sent to it: nothing to claim.
    assert submit(client, "/account", profile(phone="13700137009")).status_code == 302
    assert guess(client, send_code(client)) == 302
    # A record the service centre makes later with that number is not claimed on the
    # strength of that old code (here when the e-mail is verified): it was used once.
    later = clerk_made_record(database, world, "13700137009")
    assert submit(client, "/account", {}, action="/account/verify-email").status_code == 302
    with database.app_context():
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "verify_email")
        ).one()
        link = VERIFY_LINK.search(message.body).group(0)
    assert client.get(link).status_code == 302
    own = client_of(database, user.username)
    assert own.id not in (record_id, later) and own.email_verified_at is not None


def test_the_right_code_claims_the_record_a_clerk_made(client, database, world):
    record_id = clerk_made_record(database, world, "13700137000")
    registration = {"kind": "citizen", "name": "王五", "username": "wangwu",
                    "password": "a-long-password", "confirm": "a-long-password",
                    "phone": "13700137000", "email": ""}
    assert submit(client, "/register", registration).status_code == 302
    code = send_code(client)
    assert code not in str(client.get_cookie("portal_session").value)
    assert guess(client, wrong(code)) == 422
    assert guess(client, code) == 302
    assert "楼道灯坏了两周" in client.get("/requests").get_data(as_text=True)
    assert client_of(database, "wangwu").id == record_id
    # Used once: the same code again proves nothing.
    assert guess(client, code) == 409


def test_guessing_is_rate_limited(client, database, login_as, monkeypatch):
    monkeypatch.setitem(database.config, "PHONE_GUESS_RATE_LIMIT", "2 per minute")
    login_as("citizen", phone="13300133000")
    code = send_code(client)
    assert guess(client, wrong(code)) == 422
    assert guess(client, wrong(code)) == 422
    assert guess(client, code) == 429
