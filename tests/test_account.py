"""Clients' self-service: profile, passwords, reset by e-mail, verification and claiming a
record made by staff, searching one's requests, a copy of one's data, and deletion."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from cases.attachments import storage_path, store_attachments
from cases.models import Attachment, Case, CaseEvent, CaseReply, CaseStatus, CaseType, Channel
from cases.services import CaseRequest, file_case
from citizens.models import (
    Client,
    ClientFlag,
    ClientKind,
    ClientTag,
    ContactLog,
    DeletionRequest,
    DeletionStatus,
    VulnerableGroup,
)
from citizens.registration import claim_matching_record
from citizens.services import create_client
from portal.db import db, utcnow
from portal.models import Role, User
from portal.notifications.models import InboxMessage, MessageChannel, OutboxMessage
from portal.sealing import OUTBOX, unseal
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import PASSWORD, make_case, make_user

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
RESET_LINK = re.compile(r"/reset/([A-Za-z0-9_.\-]+)")
VERIFY_LINK = re.compile(r"/account/verify-email/([A-Za-z0-9_.\-]+)")


@pytest.fixture(autouse=True)
def quiet_outbox(database, monkeypatch):
    """Outbox rows stay pending (no SMTP server here); reset links are not rate-limited
    unless a test says so."""
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", False)
    monkeypatch.setitem(database.config, "RESET_RATE_LIMIT", "1000 per minute")


def profile(**change) -> dict:
    data = {
        "name": "张三",
        "phone": "13800138000",
        "email": "zhangsan@example.org",
        "notify": "email",
        "locale": "zh_CN",
    }
    data.update(change)
    return data


def get_client(app, client_id) -> Client:
    with app.app_context():
        row = db.session.get(Client, client_id)
        db.session.expunge(row)
        return row


def get_user(app, user_id) -> User:
    with app.app_context():
        row = db.session.get(User, user_id)
        db.session.expunge(row)
        return row


def outbox(app, event: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if event:
            stmt = stmt.where(OutboxMessage.event == event)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return list(rows)


# --- the profile -------------------------------------------------------------------------


def test_account_page_shows_the_profile_and_the_links(client, login_as):
    user = login_as("citizen", name="张三")
    html = client.get("/account").get_data(as_text=True)
    assert 'value="张三"' in html and f'value="{user.email}"' in html
    assert 'href="/account/export"' in html and 'href="/account/password"' in html
    assert 'id="nav-account"' in html
    assert 'name="contact_person"' not in html  # citizens have no contact person


def test_account_needs_a_sign_in_and_staff_go_to_their_password(client, login_as):
    assert client.get("/account").status_code == 302
    assert "/login" in client.get("/account").headers["Location"]
    login_as("clerk")
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    assert client.get("/account/export").status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 415 555 2671"}, "phone"),  # not a mainland number
        ({"phone": "10086"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "zhang@@example.org"}, "email"),
        ({"name": ""}, "name"),
        ({"phone": "", "email": ""}, "phone"),
        ({"notify": "sms", "phone": ""}, "notify"),
        ({"notify": "email", "email": ""}, "notify"),
        ({"notify": "pigeon"}, "notify"),
        ({"locale": "fr"}, "locale"),
    ],
)
def test_bad_profile_gets_a_message_on_its_field_and_saves_nothing(
    client, database, login_as, change, field
):
    user = login_as("citizen", name="张三", phone="13900139000")
    before = get_client(database, user.client_id)
    response = submit(client, "/account", profile(**{"name": "李四", **change}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in html
    after = get_client(database, user.client_id)
    assert (after.name, after.phone, after.email, after.notify_by_email, after.locale) == (
        before.name, before.phone, before.email, before.notify_by_email, before.locale
    )


def test_several_wrong_fields_get_a_message_each(client, database, login_as):
    login_as("enterprise")
    response = submit(
        client,
        "/account",
        profile(name="", phone="12345", email="", contact_person="", notify="email", locale="xx"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("name", "phone", "contact_person", "notify", "locale"):
        assert f'id="{field}-errors"' in html, field


def test_enterprise_needs_its_contact_person(client, database, login_as):
    user = login_as("enterprise")
    response = submit(client, "/account", profile(name="某某科技有限公司", contact_person=""))
    assert response.status_code == 422
    assert 'id="contact_person-errors"' in response.get_data(as_text=True)
    assert get_client(database, user.client_id).contact_person == "联系人"
    response = submit(
        client, "/account", profile(name="某某科技有限公司", contact_person="王经理")
    )
    assert response.status_code == 302
    assert get_client(database, user.client_id).contact_person == "王经理"
    assert get_user(database, user.id).display_name == "王经理"


def test_preferences_language_and_phone_are_saved(client, database, login_as):
    user = login_as("citizen")
    with database.app_context():
        row = db.session.get(Client, user.client_id)
        row.phone_verified_at = row.email_verified_at = utcnow()
        db.session.commit()
    response = submit(
        client,
        "/account",
        profile(phone="+86 139 0013 9000", email=user.email, notify="sms", locale="en"),
    )
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    row = get_client(database, user.client_id)
    assert row.phone == "13900139000"
    assert (row.notify_by_email, row.notify_by_sms) == (False, True)
    assert row.locale == "en" and get_user(database, user.id).locale == "en"
    # A new phone is not verified any more; the unchanged e-mail still is.
    assert row.phone_verified_at is None and row.email_verified_at is not None
    assert client.get("/account").get_data(as_text=True).count('lang="en"') >= 1

    submit(client, "/account", profile(phone="0591 8765 4321", email="new@example.org",
                                       notify="none", locale="zh_CN"))
    row = get_client(database, user.client_id)
    assert row.phone == "0591-87654321" and row.email == "new@example.org"
    assert (row.notify_by_email, row.notify_by_sms) == (False, False)
    assert row.email_verified_at is None
    account = get_user(database, user.id)
    assert account.email == "new@example.org" and account.phone == "0591-87654321"


# --- passwords ---------------------------------------------------------------------------


def test_password_change_needs_the_current_password(client, database, login_as):
    user = login_as("citizen")
    before = get_user(database, user.id).password_hash
    data = {"current_password": "wrong-password", "password": "a-new-password",
            "confirm": "a-new-password"}
    response = submit(client, "/account/password", data)
    assert response.status_code == 422
    assert 'id="current_password-errors"' in response.get_data(as_text=True)
    short = {"current_password": PASSWORD, "password": "short", "confirm": "short"}
    response = submit(client, "/account/password", short)
    assert response.status_code == 422
    assert 'id="password-errors"' in response.get_data(as_text=True)
    assert get_user(database, user.id).password_hash == before

    data["current_password"] = PASSWORD
    assert submit(client, "/account/password", data).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(client, user.username, PASSWORD).status_code == 422
    assert sign_in(client, user.username, "a-new-password").status_code == 302


def test_staff_change_their_password_too(client, login_as):
    user = login_as("handler")
    data = {"current_password": PASSWORD, "password": "another-password",
            "confirm": "another-password"}
    assert submit(client, "/account/password", data).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(client, user.username, "another-password").status_code == 302


def test_login_page_links_to_the_reset(client, database):
    assert 'href="/reset"' in client.get("/login").get_data(as_text=True)


def test_reset_request_looks_the_same_for_unknown_and_known_accounts(client, database):
    user = make_user(database, Role.CITIZEN)
    unknown = submit(client, "/reset", {"login": "nobody-here"})
    by_mail = submit(client, "/reset", {"login": "nobody@example.org"})
    known = submit(client, "/reset", {"login": user.username})
    assert unknown.status_code == by_mail.status_code == known.status_code == 200
    # CSRF tokens carry a timestamp (seconds): compare the pages without them.
    pages = [re.sub(r'(csrf_token"[^>]*?value=")[^"]+', r"\1", r.get_data(as_text=True))
             for r in (unknown, by_mail, known)]
    assert pages[0] == pages[1] == pages[2]
    assert 'id="reset-sent"' in known.get_data(as_text=True)

    (message,) = outbox(database, "password_reset")
    assert message.address == user.email and message.recipient_id == user.id
    assert RESET_LINK.search(message.body)
    # Asking with the e-mail address works as well.
    submit(client, "/reset", {"login": user.email.upper()})
    assert len(outbox(database, "password_reset")) == 2


def test_reset_link_sets_a_new_password_once(client, database):
    user = make_user(database, Role.CITIZEN)
    submit(client, "/reset", {"login": user.username})
    (message,) = outbox(database, "password_reset")
    token = RESET_LINK.search(message.body).group(1)
    url = f"/reset/{token}"
    assert client.get(url).status_code == 200
    bad = submit(client, url, {"password": "short", "confirm": "short"})
    assert bad.status_code == 422 and 'id="password-errors"' in bad.get_data(as_text=True)

    response = submit(client, url, {"password": "brand-new-secret", "confirm": "brand-new-secret"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sign_in(client, user.username, "brand-new-secret").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    # Used: the password hash it was made for is gone.
    again = client.get(url)
    assert again.status_code == 400 and 'id="link-invalid"' in again.get_data(as_text=True)
    token_page = client.get("/login")  # a CSRF token for the refused post
    token_value = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                            token_page.get_data(as_text=True)).group(1)
    reuse = client.post(url, data={"csrf_token": token_value, "password": "third-password-x",
                                   "confirm": "third-password-x"})
    assert reuse.status_code == 400
    assert sign_in(client, user.username, "brand-new-secret").status_code == 302


def test_tampered_and_expired_reset_links_are_refused(client, database):
    user = make_user(database, Role.CITIZEN)
    submit(client, "/reset", {"login": user.username})
    token = RESET_LINK.search(outbox(database, "password_reset")[0].body).group(1)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = client.get(f"/reset/{tampered}")
    assert response.status_code == 400 and 'id="link-invalid"' in response.get_data(as_text=True)
    assert client.get("/reset/not-a-token").status_code == 400

    max_age = database.config["PASSWORD_RESET_MAX_AGE"]
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=max_age + 60), tick=False):
        response = client.get(f"/reset/{token}", headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=max_age - 60), tick=False):
        assert client.get(f"/reset/{token}").status_code == 200


def test_reset_link_of_a_password_changed_since_is_refused(client, database):
    user = make_user(database, Role.CITIZEN)
    submit(client, "/reset", {"login": user.username})
    token = RESET_LINK.search(outbox(database, "password_reset")[0].body).group(1)
    sign_in(client, user.username)
    submit(client, "/account/password", {"current_password": PASSWORD,
                                         "password": "changed-meanwhile",
                                         "confirm": "changed-meanwhile"})
    assert client.get(f"/reset/{token}").status_code == 400


def test_reset_requests_are_rate_limited(client, database, monkeypatch):
    monkeypatch.setitem(database.config, "RESET_RATE_LIMIT", "2 per hour")
    for _ in range(2):
        assert submit(client, "/reset", {"login": "someone"}).status_code == 200
    assert submit(client, "/reset", {"login": "someone"}).status_code == 429


# --- e-mail verification and claiming a record made by staff ------------------------------


def clerk_made_record(app, world, clerk, email="wang.wu@example.org", title="楼道灯坏了两周"):
    """A phone caller's record and case, made by a clerk (no web account)."""
    with app.app_context():
        record = create_client(kind=ClientKind.CITIZEN, name="王五", phone="13700137000",
                               email=email)
        file_case(
            record,
            db.session.get(User, clerk.id),
            CaseRequest(type=CaseType.HELP, category_id=world.noise.id, title=title,
                        description="鼓楼区某小区三号楼楼道灯不亮，老人上下楼不便。",
                        district_id=world.gulou.id, channel=Channel.PHONE),
        )
        db.session.commit()
        return record.id


REGISTRATION = {
    "kind": "citizen",
    "name": "王五",
    "username": "wangwu",
    "password": "a-long-password",
    "confirm": "a-long-password",
    "phone": "",
    "email": "Wang.Wu@example.org",
}


def test_verifying_the_email_claims_the_record_a_clerk_made(client, database, world):
    clerk = make_user(database, Role.CLERK)
    record_id = clerk_made_record(database, world, clerk)
    assert submit(client, "/register", REGISTRATION).status_code == 302
    assert "楼道灯坏了两周" not in client.get("/requests").get_data(as_text=True)
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "wangwu"))
        own_id = user.client_id
    assert own_id != record_id

    (message,) = outbox(database, "verify_email")
    assert message.address == "Wang.Wu@example.org"
    token = VERIFY_LINK.search(message.body).group(1)
    response = client.get(f"/account/verify-email/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/account"

    assert "楼道灯坏了两周" in client.get("/requests").get_data(as_text=True)
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "wangwu"))
        assert user.client_id == record_id
        record = db.session.get(Client, record_id)
        assert record.email_verified_at is not None and record.phone == "13700137000"
        assert db.session.get(Client, own_id) is None  # the empty new record is gone
        claim = db.session.scalars(
            select(ContactLog).where(ContactLog.client_id == record_id,
                                     ContactLog.summary.contains("认领"))
        ).one()
        assert claim.automatic and claim.channel.value == "web" and claim.staff_id is None
    # Opening the link again changes nothing and does no harm.
    assert client.get(f"/account/verify-email/{token}").status_code == 302


def test_no_claim_unless_exactly_one_unclaimed_record_matches(client, database, world):
    clerk = make_user(database, Role.CLERK)
    first = clerk_made_record(database, world, clerk, title="第一条诉求")
    clerk_made_record(database, world, clerk, title="第二条诉求")
    submit(client, "/register", REGISTRATION)
    token = VERIFY_LINK.search(outbox(database, "verify_email")[0].body).group(1)
    assert client.get(f"/account/verify-email/{token}").status_code == 302
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "wangwu"))
        assert user.client_id != first and user.client.email_verified_at is not None


def test_records_with_an_account_merged_or_anonymised_are_not_claimed(database, world):
    clerk = make_user(database, Role.CLERK)
    other = make_user(database, Role.CITIZEN, email="shared@example.org")
    gone = clerk_made_record(database, world, clerk, email="shared@example.org")
    user = make_user(database, Role.CITIZEN, email="shared@example.org")
    with database.app_context():
        db.session.get(Client, gone).anonymised_at = utcnow()
        account = db.session.get(User, user.id)
        account.client.email_verified_at = utcnow()
        # ``other`` has an account: not claimable; ``gone`` is anonymised.
        assert claim_matching_record(account) is None
        db.session.get(Client, gone).anonymised_at = None
        db.session.get(Client, gone).merged_into_id = other.client_id
        assert claim_matching_record(account) is None
        db.session.get(Client, gone).merged_into_id = None
        account.client.email_verified_at = None  # unverified: never
        assert claim_matching_record(account) is None
        account.client.email_verified_at = utcnow()
        assert claim_matching_record(account).id == gone
        db.session.rollback()


def test_verification_link_for_a_changed_or_tampered_address_is_refused(
    client, database, login_as
):
    user = login_as("citizen")
    response = submit(client, "/account", profile(email="first@example.org"))
    assert response.status_code == 302
    token_form = csrf_token(client, "/account")
    assert client.post("/account/verify-email", data={"csrf_token": token_form}).status_code == 302
    token = VERIFY_LINK.search(outbox(database, "verify_email")[-1].body).group(1)
    assert client.get(f"/account/verify-email/{token[:-2]}xx").status_code == 400
    submit(client, "/account", profile(email="second@example.org"))
    response = client.get(f"/account/verify-email/{token}")
    assert response.status_code == 400
    assert get_client(database, user.client_id).email_verified_at is None
    max_age = database.config["EMAIL_VERIFY_MAX_AGE"]
    client.post("/account/verify-email", data={"csrf_token": csrf_token(client, "/account")})
    token = VERIFY_LINK.search(outbox(database, "verify_email")[-1].body).group(1)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=max_age + 60), tick=False):
        assert client.get(f"/account/verify-email/{token}").status_code == 400
    assert client.get(f"/account/verify-email/{token}").status_code == 302
    assert get_client(database, user.client_id).email_verified_at is not None


# --- my requests --------------------------------------------------------------------------


def test_my_requests_search_by_title_and_number_with_status_and_pages(
    client, database, world, login_as, monkeypatch
):
    user = login_as("citizen")
    lamp = make_case(database, user, world, title="小区路灯不亮")
    make_case(database, user, world, title="路灯杆倾斜有危险", status=CaseStatus.CLOSED)
    make_case(database, user, world, title="夜间施工噪音")
    stranger = make_user(database, Role.CITIZEN)
    make_case(database, stranger, world, title="别人的路灯诉求")

    html = client.get("/requests?q=路灯").get_data(as_text=True)
    assert "小区路灯不亮" in html and "路灯杆倾斜有危险" in html
    assert "夜间施工噪音" not in html and "别人的路灯诉求" not in html
    assert 'value="路灯"' in html

    html = client.get(f"/requests?q={lamp.number}").get_data(as_text=True)
    assert "小区路灯不亮" in html and "路灯杆倾斜有危险" not in html

    html = client.get("/requests?q=路灯&status=closed").get_data(as_text=True)
    assert "路灯杆倾斜有危险" in html and "小区路灯不亮" not in html

    html = client.get("/requests?q=100%25").get_data(as_text=True)  # LIKE characters are text
    assert "小区路灯不亮" not in html and "夜间施工噪音" not in html

    monkeypatch.setitem(database.config, "PAGE_SIZE", 1)
    first = client.get("/requests?q=路灯").get_data(as_text=True)
    assert "page=2" in first and "q=" in first
    second = client.get("/requests?q=路灯&page=2").get_data(as_text=True)
    assert ("小区路灯不亮" in second) != ("小区路灯不亮" in first)


# --- a copy of one's data -------------------------------------------------------------------


def test_export_contains_own_data_only(client, database, world, login_as):
    user = login_as("citizen", name="赵六", phone="13600136000")
    mine = make_case(database, user, world, title="我的诉求：井盖缺失")
    other = make_user(database, Role.CITIZEN, name="钱七", phone="13500135000")
    make_case(database, other, world, title="别人的诉求：广告牌松动")
    staff = make_user(database, Role.HANDLER, department_id=world.urban.id,
                      display_name="办事员孙八")
    with database.app_context():
        db.session.add_all([
            CaseReply(case_id=mine.id, author_id=staff.id, body="公开答复：已安排维修",
                      is_public=True),
            CaseReply(case_id=mine.id, author_id=staff.id, body="内部备注：不要外传",
                      is_public=False),
            CaseEvent(case_id=mine.id, actor_id=staff.id, action="note",
                      note="内部事件：核查来电人", is_public=False),
            ContactLog(client_id=user.client_id, channel="phone", staff_id=staff.id,
                       summary="回访电话", automatic=False),
            InboxMessage(user_id=user.id, subject="您的诉求已受理", body="收件箱内容"),
            InboxMessage(user_id=other.id, subject="别人的消息", body="别人的收件箱"),
        ])
        db.session.commit()

    response = client.get("/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="my-data-\d{4}-\d{2}-\d{2}\.json"', disposition)
    text = response.get_data(as_text=True)
    data = json.loads(text)
    assert data["client"]["name"] == "赵六" and data["client"]["phone"] == "13600136000"
    assert [a["username"] for a in data["accounts"]] == [user.username]
    (case,) = data["cases"]
    assert case["number"] == mine.number and case["title"] == "我的诉求：井盖缺失"
    assert [r["text"] for r in case["replies"]] == ["公开答复：已安排维修"]
    assert {"file"} <= {e["action"] for e in case["timeline"]}
    assert any(c["summary"] == "回访电话" and c["staff_role"] == "handler"
               for c in data["contacts"])
    assert [m["subject"] for m in data["inbox"]] == ["您的诉求已受理"]
    for absent in ("广告牌松动", "钱七", "13500135000", "内部备注", "内部事件", "孙八",
                   "password", "pbkdf2", "别人的消息"):
        assert absent not in text, absent


# --- deletion --------------------------------------------------------------------------------


def case_figures(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            select(Case.status, Case.category_id, Case.department_id, Case.district_id)
        ).all()
        return Counter(tuple(row) for row in rows)


def ask_for_deletion(client, **data):
    return submit(client, "/account", {"confirm": "y", "reason": "不再使用", **data},
                  action="/account/delete")


def test_deletion_needs_confirmation_and_one_pending_request_at_a_time(
    client, database, login_as
):
    user = login_as("citizen")
    response = submit(client, "/account", {"reason": "x"}, action="/account/delete")
    assert response.status_code == 422
    assert 'id="confirm-errors"' in response.get_data(as_text=True)
    assert ask_for_deletion(client).status_code == 302
    assert 'id="deletion-pending"' in client.get("/account").get_data(as_text=True)
    token = csrf_token(client, "/requests")
    again = client.post("/account/delete", data={"csrf_token": token, "confirm": "y"})
    assert again.status_code == 409
    with database.app_context():
        requests = db.session.scalars(select(DeletionRequest)).all()
        assert [(r.client_id, r.status, r.requested_by_id) for r in requests] == [
            (user.client_id, DeletionStatus.PENDING, user.id)
        ]


def test_admin_anonymises_and_the_figures_stay(client, database, world, login_as):
    user = login_as("citizen", name="周九", phone="13300133000",
                    email="zhoujiu@example.org")
    first = make_case(database, user, world, title="周九反映噪音", department_id=world.urban.id,
                      status=CaseStatus.DISPATCHED)
    make_case(database, user, world, title="周九反映道路", category_id=world.potholes.id,
              district_id=world.taijiang.id, status=CaseStatus.CLOSED)
    other = make_user(database, Role.CITIZEN)
    make_case(database, other, world, title="别人反映噪音")
    staff = make_user(database, Role.HANDLER, department_id=world.urban.id)
    with database.app_context():
        case = db.session.get(Case, first.id)
        (attachment,) = store_attachments(
            case, db.session.get(User, user.id),
            [FileStorage(io.BytesIO(PNG), filename="现场.png", content_type="image/png")],
        )
        file_path = storage_path(attachment.storage_key)
        db.session.add_all([
            CaseReply(case_id=first.id, author_id=staff.id, body="周九您好，已处理。"),
            CaseEvent(case_id=first.id, actor_id=staff.id, action="note", is_public=False,
                      note="已电话联系13300133000"),
            InboxMessage(user_id=user.id, subject="受理", body="周九您好"),
            InboxMessage(user_id=staff.id, case_id=first.id, subject="周九补充了信息",
                         body="诉求人周九（13300133000）补充了信息"),
            OutboxMessage(channel=MessageChannel.EMAIL, recipient_id=staff.id,
                          address="staff@example.org", subject="周九补充了信息",
                          body="诉求人周九补充了信息", event="client_info", case_id=first.id),
            OutboxMessage(channel=MessageChannel.SMS, address="13300133000", body="周九您好",
                          event="accept", case_id=first.id),
            ClientTag(client_id=user.client_id, tag="常客"),
            ClientFlag(client_id=user.client_id, flag=VulnerableGroup.ELDERLY),
        ])
        db.session.commit()
    assert file_path.exists()
    submit(client, "/reset", {"login": user.username})  # an e-mail in the outbox
    assert ask_for_deletion(client).status_code == 302
    with database.app_context():
        request_id = db.session.scalar(select(DeletionRequest.id))
    before = case_figures(database)

    # Not for the person themself, nor for other staff.
    url = f"/admin/deletion-requests/{request_id}"
    token = csrf_token(client, "/account")
    assert client.post(url, data={"csrf_token": token, "decision": "carry_out"}).status_code == 403
    assert client.get("/admin/deletion-requests").status_code == 403
    login_as("supervisor")
    token = csrf_token(client, "/")
    assert client.post(url, data={"csrf_token": token, "decision": "carry_out"}).status_code == 403

    admin = login_as("admin")
    page = client.get("/admin/deletion-requests").get_data(as_text=True)
    assert f'id="request-{request_id}"' in page and "周九" in page
    response = submit(client, "/admin/deletion-requests", {"decision": "carry_out"}, action=url)
    assert response.status_code == 302

    assert case_figures(database) == before
    assert not file_path.exists()
    with database.app_context():
        row = db.session.get(Client, user.client_id)
        assert row.name == f"已注销用户 #{row.id}" and row.anonymised_at is not None
        assert (row.phone, row.email, row.id_number, row.contact_person) == (None,) * 4
        assert row.tags == [] and row.flags == []
        account = db.session.get(User, user.id)
        assert account.username == f"deleted-{user.id}" and not account.active
        assert account.email is None and account.phone is None
        request = db.session.get(DeletionRequest, request_id)
        assert request.status == DeletionStatus.DONE and request.handled_by_id == admin.id
        assert request.handled_at is not None
        from portal.models import AdminAction

        (audit,) = db.session.scalars(select(AdminAction)).all()
        assert (audit.action, audit.actor_id, audit.target_id) == (
            "deletion.carry_out", admin.id, row.id)
        cases = db.session.scalars(select(Case).where(Case.client_id == row.id)).all()
        assert len(cases) == 2
        assert {c.title for c in cases} == {"（内容已因用户注销而删除）"}
        assert db.session.scalars(select(Attachment)).all() == []
        assert db.session.scalars(
            select(InboxMessage).where(InboxMessage.user_id == user.id)
        ).all() == []
        (note,) = db.session.scalars(select(InboxMessage).where(InboxMessage.user_id == staff.id))
        assert note.body == "诉求人***（***）补充了信息"  # the staff's message stays, masked
        assert [m.address for m in db.session.scalars(select(OutboxMessage))] == [
            "staff@example.org"
        ]
        assert all(c.summary == "" for c in db.session.scalars(
            select(ContactLog).where(ContactLog.client_id == row.id)))
        # The person appears nowhere: record, accounts, cases, replies, notes, outbox.
        texts = [
            *(str(v) for c in db.session.scalars(select(Client)) for v in vars(c).values()),
            *(str(v) for u in db.session.scalars(select(User)) for v in vars(u).values()),
            *(f"{c.title} {c.description}" for c in db.session.scalars(select(Case))),
            *(r.body for r in db.session.scalars(select(CaseReply))),
            *(e.note or "" for e in db.session.scalars(select(CaseEvent))),
            *(f"{m.address} {m.subject} {m.body}"
              for m in db.session.scalars(select(OutboxMessage))),
            *(f"{m.subject} {m.body}" for m in db.session.scalars(select(InboxMessage))),
        ]
        for secret in ("周九", "13300133000", "zhoujiu@example.org", user.username):
            assert not any(secret in text for text in texts), secret
        assert db.session.scalar(select(Case.title).where(Case.client_id == other.client_id))
    # The person cannot sign in any more, by old or new name.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(client, user.username).status_code == 422
    assert sign_in(client, f"deleted-{user.id}").status_code == 422
    # Decided requests are not decided twice.
    login_as("admin")
    again = submit(client, "/admin/deletion-requests", {"decision": "carry_out"}, action=url)
    assert again.status_code == 409


def test_admin_refuses_with_a_reason_the_client_reads(client, database, login_as):
    user = login_as("citizen")
    ask_for_deletion(client)
    with database.app_context():
        request_id = db.session.scalar(select(DeletionRequest.id))
    login_as("admin")
    url = f"/admin/deletion-requests/{request_id}"
    response = submit(client, "/admin/deletion-requests", {"decision": "refuse"}, action=url)
    assert response.status_code == 422
    assert f'id="note-{request_id}-errors"' in response.get_data(as_text=True)
    response = submit(client, "/admin/deletion-requests",
                      {"decision": "refuse", "note": "尚有未办结的投诉"}, action=url)
    assert response.status_code == 302
    with database.app_context():
        request = db.session.get(DeletionRequest, request_id)
        assert request.status == DeletionStatus.REFUSED and request.handled_at is not None
        (message,) = db.session.scalars(
            select(InboxMessage).where(InboxMessage.user_id == user.id)
        ).all()
        assert "尚有未办结的投诉" in message.body
        account = db.session.get(User, user.id)
        assert account.active and account.client.anonymised_at is None
    # The client may ask again once refused.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, user.username)
    assert ask_for_deletion(client).status_code == 302


SMS_CODE = re.compile(r"\b(\d{6})\b")


def sms_code(app, message: OutboxMessage) -> str:
    """The code of a verification SMS: stored masked, readable only from the sealed text."""
    assert not SMS_CODE.search(message.body)
    with app.app_context():
        return SMS_CODE.search(unseal(message.sealed_body, OUTBOX)).group(1)


def test_verifying_the_phone_by_text_message_claims_the_record(client, database, world):
    clerk = make_user(database, Role.CLERK)
    record_id = clerk_made_record(database, world, clerk, email=None)
    data = {**REGISTRATION, "phone": "13700137000", "email": ""}
    assert submit(client, "/register", data).status_code == 302
    assert "楼道灯坏了两周" not in client.get("/requests").get_data(as_text=True)
    response = submit(client, "/account", {}, action="/account/verify-phone")
    assert response.status_code == 302
    (message,) = outbox(database, "verify_phone")
    assert message.channel.value == "sms" and message.address == "13700137000"
    code = sms_code(database, message)
    # The session cookie is readable: it must not carry the code.
    assert code not in str(client.get_cookie("portal_session").value)

    wrong = "000000" if code != "000000" else "111111"
    response = submit(client, "/account/verify-phone/code", {"code": wrong})
    assert response.status_code == 422
    response = submit(client, "/account/verify-phone/code", {"code": code})
    assert response.status_code == 302
    assert "楼道灯坏了两周" in client.get("/requests").get_data(as_text=True)
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "wangwu"))
        assert user.client_id == record_id
        assert db.session.get(Client, record_id).phone_verified_at is not None


def test_phone_code_attempts_are_limited(client, database, world):
    data = {**REGISTRATION, "phone": "13700137001", "email": ""}
    submit(client, "/register", data)
    submit(client, "/account", {}, action="/account/verify-phone")
    (message,) = outbox(database, "verify_phone")
    code = sms_code(database, message)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert submit(client, "/account/verify-phone/code", {"code": wrong}).status_code == 422
    # After five wrong tries even the right code no longer works: ask for a new one.
    assert submit(client, "/account/verify-phone/code", {"code": code}).status_code == 409
    with database.app_context():
        user = db.session.scalar(select(User).where(User.username == "wangwu"))
        assert user.client.phone_verified_at is None
