"""Notifications: outbox and inbox written with the change, delivered once after the commit.

Delivery is tested against a real SMTP server on loopback (aiosmtpd) that refuses some
deliveries, with a frozen clock moved past the backoff; against two workers at once;
and through RQ on the real Redis (database 15).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cases.models import Case, CaseReply, CaseType
from cases.notifications import notify_case_event, notify_case_staff
from cases.services import CaseRequest, file_case, not_accept_case
from citizens.models import Client, ClientKind
from portal import create_app
from portal.db import db, utcnow
from portal.models import Role, User
from portal.notifications.delivery import deliver_due, dispatch_committed
from portal.notifications.models import (
    InboxMessage,
    MessageChannel,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
)
from tests.conftest import csrf_token, submit
from tests.factories import make_case, make_user

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def deliver_only_when_asked(database, monkeypatch):
    """Outbox rows stay pending after the commit unless a test turns inline delivery on."""
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", False)


def set_client(app, client_id, **values):
    with app.app_context():
        client = db.session.get(Client, client_id)
        for key, value in values.items():
            setattr(client, key, value)
        db.session.commit()


def citizen_case(app, world, prefs=None, **user_kw):
    """A citizen with a web account, and a case of theirs."""
    user = make_user(app, Role.CITIZEN, **user_kw)
    if prefs:
        set_client(app, user.client_id, **prefs)
    return user, make_case(app, user, world)


def caller_case(app, world, **client_kw):
    """A phone caller (a client record without an account) and the case a clerk filed."""
    clerk = make_user(app, Role.CLERK)
    with app.app_context():
        client = Client(kind=ClientKind.CITIZEN, **client_kw)
        db.session.add(client)
        db.session.flush()
        request = CaseRequest(
            type=CaseType.HELP,
            category_id=world.noise.id,
            title="小区路灯不亮",
            description="三号楼前的路灯坏了一个星期。",
            district_id=world.gulou.id,
        )
        case = file_case(client, db.session.get(User, clerk.id), request)
        db.session.commit()
        return client.id, case.number, case.id


def notify(app, case_id, event, staff=False, **kw):
    """Tell people about ``event`` and commit; the ids of the outbox rows written."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        messages = (notify_case_staff if staff else notify_case_event)(case, event, **kw)
        db.session.commit()
        return [m.id for m in messages]


def outbox(app, ids=None, **filters):
    with app.app_context():
        stmt = select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id)
        if ids is not None:
            stmt = stmt.where(OutboxMessage.id.in_(ids))
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def inbox(app, user_id):
    with app.app_context():
        rows = db.session.scalars(
            select(InboxMessage).where(InboxMessage.user_id == user_id).order_by(InboxMessage.id)
        ).all()
        db.session.expunge_all()
        return rows


def add_public_reply(app, case_id, body):
    with app.app_context():
        db.session.add(CaseReply(case_id=case_id, body=body, is_public=True))
        db.session.commit()


def add_template(app, event, channel, locale, body, subject=""):
    with app.app_context():
        db.session.add(
            MessageTemplate(event=event, channel=channel, locale=locale, subject=subject, body=body)
        )
        db.session.commit()


def deliver(app, **kw):
    with app.app_context():
        return deliver_due(**kw)


# --- a real SMTP server on loopback -----------------------------------------------------


class Mailbox:
    """An aiosmtpd handler: refuses the first ``refuse_data`` messages (451), refuses some
    recipients for ever (451) or for good (550), and keeps what it accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refuse_data = 0
        self.refused = 0
        self.busy_rcpt: set[str] = set()
        self.unknown_rcpt: set[str] = set()
        self.delay = 0.0
        self.accepted = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.busy_rcpt:
            return "451 Try again later"
        if address in self.unknown_rcpt:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.refuse_data > 0:
                self.refuse_data -= 1
                self.refused += 1
                return "451 Try again later"
            self.accepted.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def ids(self) -> Counter:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.accepted)

    def to(self, address):
        with self.lock:
            return [m for m in self.accepted if str(m["To"]) == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox(database, monkeypatch):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(database.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(database.config, "MAIL_PORT", controller.port)
    yield box
    controller.stop()


# --- who is told what -------------------------------------------------------------------


def test_client_is_told_in_chinese_with_the_reply_and_a_tracking_link(database, world):
    user, case = citizen_case(database, world)
    add_public_reply(database, case.id, "施工单位已承诺夜间停工。")
    ids = notify(database, case.id, "reply")

    [email] = outbox(database, ids)
    assert email.channel == MessageChannel.EMAIL and email.address == user.email
    assert email.recipient_id == user.id and email.event == "reply" and email.locale == "zh_CN"
    assert email.subject == f"您的诉求 {case.number} 已答复"
    assert "施工单位已承诺夜间停工。" in email.body and "“五一路夜间施工噪音扰民”" in email.body
    assert f"http://127.0.0.1:5000/track?number={case.number}" in email.body
    assert email.status == OutboxStatus.PENDING and email.attempts == 0
    [message] = inbox(database, user.id)
    assert message.subject == email.subject and message.case_id == case.id
    assert message.read_at is None


def test_client_is_told_in_their_own_language(database, world):
    user, case = citizen_case(database, world, prefs={"locale": "en", "notify_by_sms": True})
    ids = notify(database, case.id, "accept")
    email, sms = outbox(database, ids)
    assert email.subject == f"Your request {case.number} has been accepted"
    assert email.body.startswith(f"Dear {user.display_name},") and email.locale == "en"
    assert sms.channel == MessageChannel.SMS and sms.subject == ""
    assert sms.body.startswith("Citizen Service Portal: your request") and len(sms.body) < 140
    assert inbox(database, user.id)[0].subject == email.subject


def test_nothing_is_written_when_the_change_rolls_back(database, world):
    user, case = citizen_case(database, world)
    with database.app_context():
        notify_case_event(db.session.get(Case, case.id), "close")
        db.session.rollback()
    assert outbox(database, case_id=case.id, event="close") == []
    assert inbox(database, user.id) == []


@pytest.mark.parametrize(
    ("by_email", "by_sms", "channels"),
    [
        (True, False, ["email"]),
        (False, True, ["sms"]),
        (True, True, ["email", "sms"]),
        (False, False, []),
    ],
)
def test_client_preferences_decide_the_channels(database, world, by_email, by_sms, channels):
    user, case = citizen_case(
        database, world, prefs={"notify_by_email": by_email, "notify_by_sms": by_sms}
    )
    ids = notify(database, case.id, "dispatch")
    assert [m.channel.value for m in outbox(database, ids)] == channels
    assert len(inbox(database, user.id)) == 1  # the inbox, whatever the preferences


def test_phone_caller_without_an_account_gets_an_sms(database, world):
    client_id, number, case_id = caller_case(
        database, world, name="王五", phone="13912345678", notify_by_sms=True,
        notify_by_email=True,
    )
    ids = notify(database, case_id, "close")
    [sms] = outbox(database, ids)  # no e-mail address on record: SMS only
    assert sms.channel == MessageChannel.SMS and sms.address == "13912345678"
    assert sms.recipient_id is None and number in sms.body
    with database.app_context():
        assert db.session.scalars(select(InboxMessage)).all() == []


def test_account_without_address_falls_back_to_the_client_record(database, world):
    user, case = citizen_case(database, world, prefs={"email": "family@example.org"})
    with database.app_context():
        db.session.get(User, user.id).email = None
        db.session.commit()
    [email] = outbox(database, notify(database, case.id, "accept"))
    assert email.address == "family@example.org"


def test_one_message_per_address_for_one_event(database, world):
    firm = make_user(database, Role.ENTERPRISE, email="office@firm.example", phone="13800000001")
    set_client(database, firm.client_id, notify_by_sms=True, email="office@firm.example")
    colleague = make_user(database, Role.ENTERPRISE, email="OFFICE@firm.example",
                          phone="138 0000 0001")
    other = make_user(database, Role.ENTERPRISE, email="li@firm.example", phone="13800000002")
    with database.app_context():  # three accounts speak for the same firm
        for account in (colleague, other):
            db.session.get(User, account.id).client_id = firm.client_id
        db.session.commit()
    inactive = make_user(database, Role.ENTERPRISE, email="gone@firm.example", active=False)
    with database.app_context():
        db.session.get(User, inactive.id).client_id = firm.client_id
        db.session.commit()
    case = make_case(database, firm, world)

    ids = notify(database, case.id, "reply")
    sent = sorted((m.channel.value, m.address) for m in outbox(database, ids))
    assert sent == [
        ("email", "li@firm.example"),
        ("email", "office@firm.example"),
        ("sms", "13800000001"),
        ("sms", "13800000002"),
    ]
    assert [len(inbox(database, u.id)) for u in (firm, colleague, other, inactive)] == [1, 1, 1, 0]


def test_refusal_reason_reaches_the_client(database, world):
    user, case = citizen_case(database, world)
    clerk = make_user(database, Role.CLERK)
    with database.app_context():
        not_accept_case(
            db.session.get(Case, case.id), db.session.get(User, clerk.id), "不属于本平台受理范围。"
        )
        db.session.commit()
    [email] = outbox(database, notify(database, case.id, "not_accept"))
    assert email.subject == f"您的诉求 {case.number} 未予受理"
    assert "原因：不属于本平台受理范围。" in email.body


def test_staff_hear_through_the_assignee_or_the_department_heads(database, world):
    _user, case = citizen_case(database, world)
    make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id,
              email="head@urban.example")
    make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id)  # no e-mail
    make_user(database, Role.DEPARTMENT_HEAD, department_id=world.transport.id,
              email="other@transport.example")
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id,
                        email="handler@urban.example", locale="en")
    with database.app_context():
        row = db.session.get(Case, case.id)
        row.department_id = world.urban.id
        row.due_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        db.session.commit()

    [email] = outbox(database, notify(database, case.id, "due_soon", staff=True))
    assert email.address == "head@urban.example" and email.locale == "zh_CN"
    assert email.subject == f"诉求 {case.number} 即将到期"
    assert "2026-12-01 17:00" in email.body and f"/cases/{case.number}" in email.body
    assert "当前状态：待受理" in email.body  # the status label in the recipient's language

    with database.app_context():
        db.session.get(Case, case.id).assignee_id = handler.id
        db.session.commit()
    [email] = outbox(database, notify(database, case.id, "client_info", staff=True,
                                      note="路灯编号 GL-0032"))
    assert email.address == "handler@urban.example" and email.locale == "en"
    assert email.subject == f"The client added information to case {case.number}"
    assert "GL-0032" in email.body and "Current status: Submitted." in email.body
    assert [m.subject for m in inbox(database, handler.id)] == [email.subject]


def test_staff_do_not_learn_who_filed_an_anonymous_tip_off(database, world):
    user, case = citizen_case(database, world)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id,
                        email="handler@urban.example", locale="en")
    add_template(database, "overdue", MessageChannel.EMAIL, "en",
                 subject="Overdue: {number}", body="Filed by {client_name}. {case_url}")
    with database.app_context():
        row = db.session.get(Case, case.id)
        row.assignee_id, row.anonymous = handler.id, True
        db.session.commit()
    [email] = outbox(database, notify(database, case.id, "overdue", staff=True))
    assert email.subject == f"Overdue: {case.number}"
    assert email.body.startswith("Filed by Anonymous.")


def test_admin_template_is_used_and_a_broken_one_falls_back(database, world):
    user, case = citizen_case(database, world, prefs={"notify_by_sms": True})
    add_template(database, "accept", MessageChannel.EMAIL, "zh_CN",
                 subject="受理通知 {number}", body="{client_name}：已受理。{unknown}")
    add_template(database, "accept", MessageChannel.SMS, "zh_CN", body="已受理 {number")
    add_template(database, "close", MessageChannel.EMAIL, "zh_CN",
                 subject="办结通知 {number}", body="{client_name}：已办结。{{说明}}")
    email, sms = outbox(database, notify(database, case.id, "accept"))
    # A name the portal does not fill, or a stray brace (rows the save check would have
    # refused): the built-in text instead, never a half-filled one.
    assert email.subject == f"您的诉求 {case.number} 已受理"
    assert sms.body.startswith("【民众服务平台】您的诉求")
    [closed] = [m for m in outbox(database, notify(database, case.id, "close"))
                if m.channel == MessageChannel.EMAIL]
    assert closed.subject == f"办结通知 {case.number}"
    assert closed.body == f"{user.display_name}：已办结。{{说明}}"  # {{ }} write a brace


# --- delivery -------------------------------------------------------------------------


def test_refused_mail_is_retried_after_the_backoff_and_delivered_once(database, world, mailbox):
    mailbox.refuse_data = 2
    never = "never@example.org"
    mailbox.busy_rcpt.add(never)
    with time_machine.travel(START, tick=False) as clock:
        ids = []
        for n in range(3):
            _user, case = citizen_case(database, world, email=f"c{n}@example.org")
            ids += notify(database, case.id, "accept")
        _user, case = citizen_case(database, world, email=never)
        [never_id] = notify(database, case.id, "accept")

        first = deliver(database)
        assert (first.sent, first.retry) == (1, 3)
        assert deliver(database).sent == 0  # nobody is due before the backoff
        clock.shift(timedelta(seconds=61))
        second = deliver(database)
        assert (second.sent, second.retry) == (2, 1)
        for _ in range(10):  # long enough for the busy address to run out of attempts
            clock.shift(timedelta(hours=1))
            deliver(database)

    ids_at_server = mailbox.ids()
    assert len(ids_at_server) == 3 and set(ids_at_server.values()) == {1}
    assert mailbox.refused == 2
    rows = outbox(database, ids)
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 3
    assert sorted(r.attempts for r in rows) == [0, 1, 1]
    assert all(r.sent_at is not None for r in rows)
    assert {r.last_error for r in rows if r.attempts} == {
        "SMTPDataError: (451, b'Try again later')"
    }
    [failed] = outbox(database, [never_id])
    assert failed.status == OutboxStatus.FAILED and failed.sent_at is None
    assert failed.attempts == database.config["NOTIFY_MAX_ATTEMPTS"] == 8
    assert "451" in failed.last_error and mailbox.to(never) == []


def test_backoff_doubles_and_is_capped(database, world, mailbox):
    mailbox.busy_rcpt.add("busy@example.org")
    _user, case = citizen_case(database, world, email="busy@example.org")
    with time_machine.travel(START, tick=False) as clock:
        [message_id] = notify(database, case.id, "accept")
        waits = []
        for _ in range(7):
            deliver(database)
            [row] = outbox(database, [message_id])
            waits.append(row.next_attempt_at - utcnow())
            clock.move_to(row.next_attempt_at)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]


def test_mail_headers_are_stable_and_utf8(database, world, mailbox):
    _user, case = citizen_case(database, world, email="zhang@example.org")
    [message_id] = notify(database, case.id, "accept")
    assert deliver(database).sent == 1
    [mail] = mailbox.to("zhang@example.org")
    assert mail["Subject"] == f"您的诉求 {case.number} 已受理"
    assert mail["Message-ID"].startswith(f"<outbox-{message_id}.")
    assert mail["Message-ID"].endswith("@localhost>") and mail["Date"]
    assert mail["From"] == database.config["MAIL_DEFAULT_SENDER"]
    assert mail.get_content_charset() == "utf-8"
    assert "五一路夜间施工噪音扰民" in mail.get_content()


def test_an_address_refused_for_good_fails_at_once(database, world, mailbox):
    mailbox.unknown_rcpt.add("nobody@example.org")
    _user, case = citizen_case(database, world, email="nobody@example.org")
    ids = notify(database, case.id, "accept")
    assert deliver(database).failed == 1
    [row] = outbox(database, ids)
    assert row.status == OutboxStatus.FAILED and row.attempts == 1


def test_two_workers_at_once_deliver_each_message_once(database, world, mailbox):
    mailbox.delay = 0.01
    ids = []
    for n in range(12):
        _user, case = citizen_case(database, world, email=f"w{n}@example.org")
        ids += notify(database, case.id, "accept")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def work():
        try:
            with database.app_context():
                barrier.wait(timeout=10)
                results.append(deliver_due())
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r.sent for r in results) == 12
    assert len(mailbox.ids()) == 12 and set(mailbox.ids().values()) == {1}
    assert {r.status for r in outbox(database, ids)} == {OutboxStatus.SENT}


def test_a_stale_claim_is_taken_over_but_a_fresh_one_is_not(database, world, mailbox):
    _user, one = citizen_case(database, world, email="stale@example.org")
    _user, two = citizen_case(database, world, email="fresh@example.org")
    [stale] = notify(database, one.id, "accept")
    [fresh] = notify(database, two.id, "accept")
    now = utcnow()
    with database.app_context():
        db.session.get(OutboxMessage, stale).status = OutboxStatus.SENDING
        db.session.get(OutboxMessage, stale).claimed_at = now - timedelta(minutes=6)
        db.session.get(OutboxMessage, fresh).status = OutboxStatus.SENDING
        db.session.get(OutboxMessage, fresh).claimed_at = now - timedelta(minutes=1)
        db.session.commit()
    assert deliver(database).sent == 1
    assert [r.status for r in outbox(database, [stale, fresh])] == [
        OutboxStatus.SENT, OutboxStatus.SENDING
    ]
    assert [m["To"] for m in mailbox.accepted] == ["stale@example.org"]


def test_inline_delivery_after_the_commit(database, world, mailbox, monkeypatch):
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", True)
    _user, case = citizen_case(database, world, email="now@example.org")
    with database.app_context():
        notify_case_event(db.session.get(Case, case.id), "accept")
        db.session.commit()
        assert mailbox.to("now@example.org") == []  # not before the app context ends
    assert len(mailbox.to("now@example.org")) == 1
    assert outbox(database, case_id=case.id)[0].status == OutboxStatus.SENT

    with database.app_context():  # rolled back: nothing is said
        notify_case_event(db.session.get(Case, case.id), "close")
        db.session.rollback()
    assert len(mailbox.accepted) == 1


def test_inline_delivery_after_a_request_never_breaks_it(database, world, mailbox, monkeypatch,
                                                         caplog):
    monkeypatch.setitem(database.config, "NOTIFY_INLINE", True)
    _user, case = citizen_case(database, world, email="req@example.org")
    with database.test_request_context("/somewhere"):
        notify_case_event(db.session.get(Case, case.id), "accept")
        db.session.commit()
        response = database.process_response(database.response_class("ok"))
        # Not while the person waits: once the server has sent the response and closes it.
        assert response.status_code == 200 and mailbox.to("req@example.org") == []
    response.close()
    assert len(mailbox.to("req@example.org")) == 1

    def broken(ids, now=None):
        raise RuntimeError("gateway on fire")

    monkeypatch.setattr("portal.notifications.delivery.deliver_ids", broken)
    with database.test_request_context("/somewhere"):
        notify_case_event(db.session.get(Case, case.id), "close")
        db.session.commit()
        response = database.process_response(database.response_class("ok"))
        assert response.status_code == 200
    response.close()
    assert "could not hand on outbox" in caplog.text
    assert [r.status for r in outbox(database, case_id=case.id, event="close")] == [
        OutboxStatus.PENDING  # the sweep's deliver_due sends it later
    ]


def test_sms_log_gateway_masks_the_phone(database, world, caplog):
    _user, case = citizen_case(database, world, prefs={"notify_by_email": False,
                                                      "notify_by_sms": True})
    ids = notify(database, case.id, "accept")
    with caplog.at_level(logging.INFO, logger="portal.notifications.delivery"):
        assert deliver(database).sent == 1
    assert "SMS to 138****8000" in caplog.text and "13800138000" not in caplog.text
    assert outbox(database, ids)[0].status == OutboxStatus.SENT


class FlakyGateway:
    """An SMS gateway named by ``SMS_GATEWAY``: fails once, then takes messages."""

    sent: list[tuple[str, str]] = []
    failures = 1

    def send(self, phone: str, text: str) -> None:
        if FlakyGateway.failures:
            FlakyGateway.failures -= 1
            raise ConnectionError("gateway timeout")
        FlakyGateway.sent.append((phone, text))


def test_configured_sms_gateway_is_used_and_retried(database, world, monkeypatch):
    monkeypatch.setitem(database.config, "SMS_GATEWAY", "tests.test_notifications.FlakyGateway")
    monkeypatch.setattr(FlakyGateway, "sent", [])
    monkeypatch.setattr(FlakyGateway, "failures", 1)
    _user, case = citizen_case(database, world, prefs={"notify_by_email": False,
                                                      "notify_by_sms": True})
    with time_machine.travel(START, tick=False) as clock:
        [message_id] = notify(database, case.id, "reply")
        assert deliver(database).retry == 1
        clock.shift(timedelta(minutes=1))
        assert deliver(database).sent == 1
    assert FlakyGateway.sent == [("13800138000", outbox(database, [message_id])[0].body)]
    [row] = outbox(database, [message_id])
    assert row.attempts == 1 and row.last_error == "ConnectionError: gateway timeout"


def test_deliver_command_and_the_sweep_send_what_is_due(database, world, mailbox):
    _user, case = citizen_case(database, world, email="cli@example.org")
    notify(database, case.id, "accept")
    result = database.test_cli_runner().invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent: 1" in result.output

    notify(database, case.id, "close")
    result = database.test_cli_runner().invoke(args=["cases", "sweep"])
    assert result.exit_code == 0, result.output
    assert len(mailbox.to("cli@example.org")) == 2


# --- RQ on the real Redis --------------------------------------------------------------


@pytest.fixture
def rq_app(database, mailbox):
    """A second app on the same database with ``REDIS_URL`` (Redis database 15)."""
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379; the RQ path is not tested")
    connection.flushdb()
    keys = ("TESTING", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "PASSWORD_HASH_METHOD",
            "RATELIMIT_ENABLED", "LOGIN_RATE_LIMIT", "REGISTER_RATE_LIMIT", "FILING_RATE_LIMIT",
            "SERVER_NAME", "LOG_LEVEL", "MAIL_SERVER", "MAIL_PORT")
    config = {key: database.config[key] for key in keys}
    config.update(REDIS_URL=REDIS_TEST_URL, RATELIMIT_STORAGE_URI="memory://")
    app = create_app(config)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield app, connection
    for sig, handler in handlers.items():  # the worker installs its own
        signal.signal(sig, handler)
    with app.app_context():
        db.engine.dispose()
    connection.flushdb()
    connection.close()


def test_commit_enqueues_jobs_that_a_worker_delivers(database, world, mailbox, rq_app, caplog):
    from rq import Queue, SimpleWorker

    app, connection = rq_app
    _user, case = citizen_case(database, world, email="rq@example.org",
                               prefs={"notify_by_sms": True})
    with app.app_context():
        ids = [m.id for m in notify_case_event(db.session.get(Case, case.id), "accept")]
        db.session.commit()
    queue = Queue("notifications", connection=connection)
    assert queue.count == 2
    assert {job.func_name for job in queue.get_jobs()} == {
        "portal.notifications.delivery.deliver_job"
    }
    assert {r.status for r in outbox(database, ids)} == {OutboxStatus.PENDING}
    assert mailbox.accepted == []

    with (
        caplog.at_level(logging.INFO, logger="portal.notifications.delivery"),
        app.app_context(),
    ):
        assert SimpleWorker([queue], connection=connection).work(burst=True)
    assert queue.count == 0 and queue.finished_job_registry.count == 2
    assert len(mailbox.to("rq@example.org")) == 1
    assert "SMS to 138****8000" in caplog.text
    assert {r.status for r in outbox(database, ids)} == {OutboxStatus.SENT}


def test_worker_command_runs_the_queue_in_burst_mode(database, world, mailbox, rq_app):
    app, connection = rq_app
    _user, case = citizen_case(database, world, email="burst@example.org")
    with app.app_context():
        ids = [m.id for m in notify_case_event(db.session.get(Case, case.id), "close")]
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert len(mailbox.to("burst@example.org")) == 1
    assert [r.status for r in outbox(database, ids)] == [OutboxStatus.SENT]


def test_worker_command_needs_redis(database):
    result = database.test_cli_runner().invoke(args=["notifications", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


# --- the inbox ---------------------------------------------------------------------------


def test_inbox_shows_own_messages_newest_first_and_marks_them_read(client, database, world,
                                                                   login_as):
    other, other_case = citizen_case(database, world)
    notify(database, other_case.id, "accept")
    me = login_as(Role.CITIZEN, locale="en")
    set_client(database, me.client_id, locale="en")
    mine = make_case(database, me, world, title="Broken street light")
    notify(database, mine.id, "accept")
    notify(database, mine.id, "close")

    page = client.get("/inbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Inbox (2 unread)" in html  # the navigation link
    closed = html.index(f"Your request {mine.number} is closed")
    accepted = html.index(f"Your request {mine.number} has been accepted")
    assert closed < accepted and other_case.number not in html
    assert html.count('class="badge badge--submitted"') == 2

    [newest, oldest] = sorted(inbox(database, me.id), key=lambda m: -m.id)
    [theirs] = inbox(database, other.id)
    token = csrf_token(client, "/inbox")
    assert client.post(f"/inbox/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/inbox/{oldest.id}/read", data={}).status_code == 400  # no CSRF token
    response = client.post(f"/inbox/{oldest.id}/read", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/inbox")
    assert [m.read_at is not None for m in inbox(database, me.id)] == [True, False]
    assert inbox(database, other.id)[0].read_at is None
    assert "Inbox (1 unread)" in client.get("/inbox").get_data(as_text=True)

    response = submit(client, "/inbox", {}, action="/inbox/read-all")
    assert response.status_code == 302
    assert all(m.read_at is not None for m in inbox(database, me.id))
    assert inbox(database, other.id)[0].read_at is None
    html = client.get("/inbox").get_data(as_text=True)
    assert "unread" not in html.split('id="nav-inbox"')[1].split("</a>")[0]


def test_inbox_is_paginated(client, database, world, login_as):
    me = login_as(Role.CITIZEN, locale="en")
    with database.app_context():
        for n in range(25):
            db.session.add(InboxMessage(user_id=me.id, subject=f"Message {n:02d}", body="-"))
        db.session.commit()
    first = client.get("/inbox").get_data(as_text=True)
    second = client.get("/inbox?page=2").get_data(as_text=True)
    assert first.count('id="message-') == 20 and second.count('id="message-') == 5
    assert "Message 24" in first and "Message 00" in second and 'rel="next"' in first


def test_inbox_needs_a_signed_in_user(client, database):
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_have_an_inbox_too(client, database, world, login_as):
    clerk = login_as(Role.CLERK, locale="en")
    with database.app_context():
        db.session.add(InboxMessage(user_id=clerk.id, subject="Case due soon", body="-"))
        db.session.commit()
    html = client.get("/queues/unassigned").get_data(as_text=True)
    assert "Inbox (1 unread)" in html


# --- the editable message templates ------------------------------------------------------


def test_message_templates_are_for_admins_only(client, database, world, login_as):
    assert client.get("/admin/message-templates").status_code == 302
    login_as(Role.SUPERVISOR)
    assert client.get("/admin/message-templates").status_code == 403
    assert client.get("/admin/message-templates/reply/email/zh_CN").status_code == 403


def test_admin_sees_built_in_texts_and_edits_one(client, database, world, login_as):
    login_as(Role.ADMIN, locale="en")
    html = client.get("/admin/message-templates").get_data(as_text=True)
    assert "您的诉求 {number} 已答复" in html and "Your request {number} has been answered" in html
    url = "/admin/message-templates/reply/email/zh_CN"
    form = client.get(url).get_data(as_text=True)
    assert "您的诉求 {number} 已答复" in form and "{track_url}" in form

    response = submit(client, url, {"subject": "答复 {nmuber}", "body": "{client_name}：{reply}"})
    assert response.status_code == 422
    assert "Unknown placeholder {nmuber}" in response.get_data(as_text=True)
    response = submit(client, url, {"subject": "答复 {number}", "body": "{client_name}：{reply"})
    assert response.status_code == 422
    response = submit(client, url, {"subject": "答复 {number}", "body": "{title.__class__}"})
    assert response.status_code == 422
    with database.app_context():
        assert db.session.scalars(select(MessageTemplate)).all() == []

    response = submit(client, url, {"subject": "答复 {number}", "body": "{client_name}：{reply}"})
    assert response.status_code == 302
    user, case = citizen_case(database, world)
    add_public_reply(database, case.id, "已处理。")
    [email] = outbox(database, notify(database, case.id, "reply"))
    assert email.subject == f"答复 {case.number}" and email.body == f"{user.display_name}：已处理。"
    assert "Changed" in client.get("/admin/message-templates").get_data(as_text=True)

    assert submit(client, url, {}, action=url + "/reset").status_code == 302
    with database.app_context():
        assert db.session.scalars(select(MessageTemplate)).all() == []


def test_sms_template_has_no_subject_and_unknown_keys_are_404(client, database, world, login_as):
    login_as(Role.ADMIN, locale="en")
    url = "/admin/message-templates/close/sms/en"
    assert 'name="subject"' not in client.get(url).get_data(as_text=True)
    assert submit(client, url, {"body": "Closed: {number}"}).status_code == 302
    with database.app_context():
        [row] = db.session.scalars(select(MessageTemplate)).all()
        assert (row.event, row.channel, row.locale, row.subject) == ("close", "sms", "en", "")
    for bad in ("nope/email/en", "verify_phone/sms/en", "reply/email/fr", "reply/fax/en"):
        assert client.get(f"/admin/message-templates/{bad}").status_code == 404


def test_dispatch_committed_outside_any_commit_does_nothing(database):
    with database.app_context():
        dispatch_committed()  # nothing flushed, nothing committed: no error, no delivery


def test_log_mail_backend_marks_messages_sent_without_a_server(database, world, caplog):
    caplog.set_level(logging.INFO, logger="portal.notifications.delivery")
    saved = database.config["MAIL_BACKEND"]
    database.config["MAIL_BACKEND"] = "log"
    try:
        with database.app_context():
            db.session.add(OutboxMessage(channel=MessageChannel.EMAIL, address="zhang@example.org",
                                         subject="测试", body="正文", event="reply"))
            db.session.commit()
            deliver_due()
            message = db.session.scalar(select(OutboxMessage))
            assert message.status == OutboxStatus.SENT
        assert "z***@example.org" in caplog.text and "zhang@example.org" not in caplog.text
    finally:
        database.config["MAIL_BACKEND"] = saved
