"""Staff are told what concerns them (``cases.staff_alerts``): who gets an inbox message
and which e-mails and SMS, for every step, by every path (case page, bulk dispatch,
routing, the sweep); by their own preference; never the one who acted; never nobody."""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.models import Case, RoutingRule
from cases.services import ActionInput, perform
from cases.staff_alerts import ALERTS, quiet
from cases.staff_texts import STAFF_EVENTS, STAFF_TEXTS
from cases.sweep import sweep_deadlines
from portal.db import db, utcnow
from portal.models import Department, Role, User
from portal.notifications.models import InboxMessage, MessageChannel, OutboxMessage
from tests.conftest import submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import as_user, post_action

# --- helpers ----------------------------------------------------------------------------


def act(app, number: str, action: str, user: User | None, **data) -> None:
    """Take a step through the case page's door (``perform``) and commit."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        actor = db.session.get(User, user.id) if user else None
        for key in ("department",):
            if key in data:
                data[key] = db.session.get(Department, data[key])
        if "assisting" in data:
            data["assisting"] = [db.session.get(Department, i) for i in data["assisting"]]
        perform(case, action, actor, ActionInput(**data))
        db.session.commit()


def told(app, event: str) -> dict[int, set[str]]:
    """Per user: the channels they heard of staff ``event`` on (inbox, email, sms)."""
    with app.app_context():
        heard: dict[int, set[str]] = {}
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == event)):
            heard.setdefault(row.recipient_id, set()).add(row.channel.value)
        subjects = set(_subjects(event))
        for message in db.session.scalars(select(InboxMessage)):
            if message.subject in subjects or _matches(event, message.subject):
                heard.setdefault(message.user_id, set()).add("inbox")
        return heard


def _subjects(event: str) -> list[str]:
    return [STAFF_TEXTS[loc][event]["subject"] for loc in STAFF_TEXTS]


def _matches(event: str, subject: str) -> bool:
    """Whether an inbox subject is ``event``'s (its template with any case number)."""
    for template in _subjects(event):
        head, _, tail = template.partition("{number}")
        if subject.startswith(head) and subject.endswith(tail):
            return True
    return False


def outbox_rows(app, event: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)
        ).all()
        db.session.expunge_all()
        return rows


def set_user(app, user_id: int, **values) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()


_seq = itertools.count(1)


def staff(app, role: Role, department_id: int | None = None, **kw) -> User:
    """A member of staff with an e-mail address (and whatever else ``kw`` sets)."""
    email = kw.pop("email", f"{role.value}{next(_seq)}@city.example")
    return make_user(app, role, department_id=department_id, email=email, **kw)


@pytest.fixture
def people(database, world):
    """A clerk, two supervisors, the urban handler and head, a transport handler, a citizen."""
    return {
        "clerk": staff(database, Role.CLERK),
        "supervisor": staff(database, Role.SUPERVISOR),
        "supervisor2": staff(database, Role.SUPERVISOR),
        "handler": staff(database, Role.HANDLER, world.urban.id, phone="13900139000",
                         notify_by_sms=True),
        "head": staff(database, Role.DEPARTMENT_HEAD, world.urban.id),
        "transport": staff(database, Role.HANDLER, world.transport.id, locale="en"),
        "citizen": make_user(database, Role.CITIZEN),
    }


def a_case(app, people, world, *steps):
    case = make_case(app, people["citizen"], world)
    for action, who, data in steps:
        act(app, case.number, action, people[who] if who else None, **data)
    return case


def dispatched(app, people, world):
    return a_case(app, people, world, ("dispatch", "clerk", {"department": world.urban.id}))


def signed(app, people, world):
    return a_case(app, people, world, ("dispatch", "clerk", {"department": world.urban.id}),
                  ("sign_for", "handler", {}))


# --- the table ----------------------------------------------------------------------------


def test_every_alert_has_texts_in_both_languages_with_an_sms():
    assert {a.event for a in ALERTS.values()} <= set(STAFF_EVENTS)
    for locale in ("zh_CN", "en"):
        for event in STAFF_EVENTS:
            text = STAFF_TEXTS[locale][event]
            assert text["subject"] and text["body"] and text["sms"], (locale, event)


def test_staff_events_can_be_reworded_by_admins_with_an_sms(client, database, login_as):
    login_as(Role.ADMIN, locale="en")
    page = client.get("/admin/message-templates").get_data(as_text=True)
    for event in ("extension_requested", "replied", "returned", "escalated", "dispatched"):
        assert f"/admin/message-templates/{event}/sms/en" in page
    assert client.get("/admin/message-templates/urged/sms/zh_CN").status_code == 200


# --- dispatch, routing, transfer, assistance ---------------------------------------------


def test_dispatch_tells_the_departments_handlers_by_their_channels(client, database, world,
                                                                   people):
    case = make_case(database, people["citizen"], world)
    as_user(client, people["clerk"])
    response = post_action(client, case.number, "dispatch", department=world.urban.id,
                           assisting=world.transport.id)
    assert response.status_code in (302, 303)
    heard = told(database, "dispatched")
    assert heard == {people["handler"].id: {"inbox", "email", "sms"}}  # not the clerk, head
    [email] = [m for m in outbox_rows(database, "dispatched") if m.channel.value == "email"]
    assert email.subject == f"新派诉求 {case.number} 待签收" and "城市管理局" in email.body
    # The assisting department hears too, in its handler's language.
    assert told(database, "assisting") == {people["transport"].id: {"inbox", "email"}}
    [assist] = outbox_rows(database, "assisting")
    assert assist.subject == f"Please assist with case {case.number}"
    assert "Urban Management Bureau" in assist.body


def test_bulk_dispatch_tells_the_department(client, database, world, people):
    cases = [make_case(database, people["citizen"], world) for _ in range(2)]
    as_user(client, people["clerk"])
    response = submit(client, "/queues/unassigned", {
        "cases": [str(c.id) for c in cases], "department": str(world.urban.id),
    }, action="/queues/unassigned/dispatch")
    assert response.status_code == 302
    rows = outbox_rows(database, "dispatched")
    assert sorted(m.case_id for m in rows if m.channel.value == "email") == sorted(
        c.id for c in cases)


def test_routing_at_filing_tells_the_department(database, world, people):
    with database.app_context():
        db.session.add(RoutingRule(category_id=world.noise.id, department_id=world.urban.id))
        db.session.commit()
    make_case(database, people["citizen"], world)
    assert told(database, "dispatched") == {people["handler"].id: {"inbox", "email", "sms"}}


def test_a_department_without_handlers_is_told_through_its_head(database, world, people):
    case = a_case(database, people, world)
    act(database, case.number, "dispatch", people["clerk"], department=world.transport.id)
    assert set(told(database, "dispatched")) == {people["transport"].id}
    set_user(database, people["transport"].id, active=False)
    head = staff(database, Role.DEPARTMENT_HEAD, world.transport.id)
    other = a_case(database, people, world)
    act(database, other.number, "dispatch", people["clerk"], department=world.transport.id)
    rows = [m for m in outbox_rows(database, "dispatched") if m.case_id == other.id]
    assert [m.recipient_id for m in rows] == [head.id]


def test_transfer_tells_the_new_department_not_the_old(database, world, people):
    case = dispatched(database, people, world)
    act(database, case.number, "transfer", people["supervisor"],
        department=world.transport.id, note="属道路问题")
    [email] = outbox_rows(database, "transferred")
    assert email.recipient_id == people["transport"].id and email.locale == "en"
    assert "属道路问题" in email.body


# --- urge, supervise, extensions ----------------------------------------------------------


def test_urge_and_supervision_reach_the_handler_else_the_head(database, world, people):
    waiting = dispatched(database, people, world)  # nobody holds it yet
    act(database, waiting.number, "urge", people["clerk"], note="请尽快签收")
    assert set(told(database, "urged")) == {people["head"].id}
    held = signed(database, people, world)
    act(database, held.number, "urge", people["clerk"])
    act(database, held.number, "supervise", people["supervisor"], note="列入重点")
    urged = [m for m in outbox_rows(database, "urged") if m.case_id == held.id]
    assert {m.recipient_id for m in urged} == {people["handler"].id}
    [supervised_mail] = [m for m in outbox_rows(database, "supervised")
                         if m.channel == MessageChannel.EMAIL]
    assert supervised_mail.recipient_id == people["handler"].id
    assert "列入重点" in supervised_mail.body


def test_extension_goes_to_supervisors_and_the_decision_back(database, world, people):
    case = signed(database, people, world)
    set_user(database, people["supervisor2"].id, active=False)
    act(database, case.number, "extension", people["handler"], days=5, note="需现场勘查")
    [email] = [m for m in outbox_rows(database, "extension_requested")
               if m.channel == MessageChannel.EMAIL]
    assert email.recipient_id == people["supervisor"].id  # the disabled one is not told
    assert "5 个工作日" in email.body and "需现场勘查" in email.body
    act(database, case.number, "decide_extension", people["supervisor"], approve=True)
    assert told(database, "extension_approved") == {
        people["handler"].id: {"inbox", "email", "sms"}}
    act(database, case.number, "extension", people["handler"], days=3, note="再延")
    act(database, case.number, "decide_extension", people["supervisor"], approve=False,
        note="时限已够")
    [refusal] = [m for m in outbox_rows(database, "extension_refused")
                 if m.channel == MessageChannel.EMAIL]
    assert refusal.recipient_id == people["handler"].id and "时限已够" in refusal.body


# --- back to the service centre ---------------------------------------------------------


def test_return_and_reply_tell_the_clerk_who_dispatched(database, world, people):
    other_clerk = staff(database, Role.CLERK)
    returned = dispatched(database, people, world)
    act(database, returned.number, "return", people["handler"], note="不属本部门职责")
    [email] = outbox_rows(database, "returned")
    assert email.recipient_id == people["clerk"].id and "不属本部门职责" in email.body

    answered = signed(database, people, world)
    act(database, answered.number, "reply", people["handler"], note="已协调施工单位停工。")
    assert set(told(database, "replied")) == {people["clerk"].id}
    [reply_mail] = [m for m in outbox_rows(database, "replied")
                    if m.channel == MessageChannel.EMAIL]
    assert "已协调施工单位停工。" in reply_mail.body

    again = signed(database, people, world)
    set_user(database, people["clerk"].id, active=False)  # left: every clerk hears
    act(database, again.number, "reply", people["handler"], note="已办理。")
    rows = [m for m in outbox_rows(database, "replied") if m.case_id == again.id]
    assert {m.recipient_id for m in rows} == {other_clerk.id}
    assert other_clerk.id not in {m.recipient_id for m in outbox_rows(database, "returned")}


def test_a_reply_sent_back_to_redo_goes_to_its_handler(database, world, people):
    case = signed(database, people, world)
    act(database, case.number, "reply", people["handler"], note="已处理。")
    act(database, case.number, "redo", people["clerk"], note="现场仍有噪音")
    [email] = [m for m in outbox_rows(database, "sent_back")
               if m.channel == MessageChannel.EMAIL]
    assert email.recipient_id == people["handler"].id and "现场仍有噪音" in email.body


# --- preferences, the actor, nobody ------------------------------------------------------


def test_preferences_decide_email_and_sms(database, world, people):
    set_user(database, people["handler"].id, notify_by_email=False, notify_by_sms=True)
    dispatched(database, people, world)
    assert told(database, "dispatched") == {people["handler"].id: {"inbox", "sms"}}
    set_user(database, people["handler"].id, notify_by_sms=True, phone=None)
    dispatched(database, people, world)
    assert told(database, "dispatched") == {people["handler"].id: {"inbox", "sms"}}
    sms = [m for m in outbox_rows(database, "dispatched")]
    assert len(sms) == 1 and sms[0].body.startswith("【民众服务平台】")


def test_the_actor_is_never_told_of_their_own_step(database, world, people):
    """A case of a department nobody works in falls to the supervisors: not the one who
    put it under supervision."""
    empty = Department(code="empty", name_zh="空部门", name_en="Empty")
    with database.app_context():
        db.session.add(empty)
        db.session.commit()
        empty_id = empty.id
    case = a_case(database, people, world)
    act(database, case.number, "dispatch", people["clerk"], department=empty_id)
    assert set(told(database, "dispatched")) == {people["supervisor"].id,
                                                  people["supervisor2"].id}
    act(database, case.number, "supervise", people["supervisor"])
    assert set(told(database, "supervised")) == {people["supervisor2"].id}


def test_the_sweep_tells_someone_even_without_heads_or_assignee(database, world, people,
                                                               caplog):
    case = dispatched(database, people, world)
    set_user(database, people["head"].id, active=False)
    now = utcnow()
    with database.app_context():
        row = db.session.get(Case, case.id)
        row.due_at, row.due_soon_at = now + timedelta(hours=1), now - timedelta(minutes=1)
        db.session.commit()
    with caplog.at_level(logging.INFO, logger="cases"), database.app_context():
        assert sweep_deadlines(now).due_soon == [case.number]
    assert set(told(database, "due_soon")) == {people["handler"].id}
    assert "told 0 staff" not in caplog.text and "nobody on the staff" not in caplog.text

    with database.app_context():
        row = db.session.get(Case, case.id)
        row.due_at = now - timedelta(minutes=1)
        db.session.commit()
    with database.app_context():
        result = sweep_deadlines(now)
    assert result.overdue == [case.number] and result.escalated == [case.number]
    assert set(told(database, "overdue")) == {people["handler"].id}
    # Escalation: the supervisors (the head is disabled) are told why, in their language.
    assert set(told(database, "escalated")) == {people["supervisor"].id,
                                                people["supervisor2"].id}
    assert "已超过办理时限" in outbox_rows(database, "escalated")[0].body


# --- links and settings --------------------------------------------------------------------


def test_links_made_by_the_sweep_use_the_base_url(database, world, people, monkeypatch):
    monkeypatch.setitem(database.config, "BASE_URL", "http://portal.example:8123")
    case = signed(database, people, world)
    now = utcnow()
    with database.app_context():
        db.session.get(Case, case.id).due_at = now - timedelta(minutes=1)
        db.session.commit()
        sweep_deadlines(now)
    [email] = [m for m in outbox_rows(database, "overdue") if m.channel == MessageChannel.EMAIL]
    assert f"http://portal.example:8123/cases/{case.number}" in email.body
    assert "5000" not in email.body


def test_links_made_in_a_request_use_the_base_url_too(client, database, world, people,
                                                      monkeypatch):
    monkeypatch.setitem(database.config, "BASE_URL", "https://12345.city.example/")
    case = make_case(database, people["citizen"], world)
    as_user(client, people["clerk"])
    post_action(client, case.number, "dispatch", department=world.urban.id)
    [email] = [m for m in outbox_rows(database, "dispatched")
               if m.channel == MessageChannel.EMAIL]
    assert f"https://12345.city.example/cases/{case.number}" in email.body
    assert "http://localhost" not in email.body


def test_staff_choose_their_channels_on_the_settings_page(client, database, world, people):
    handler = staff(database, Role.HANDLER, world.urban.id, phone=None, locale="en")
    as_user(client, handler)
    page = client.get("/inbox").get_data(as_text=True)
    assert 'href="/account/notifications"' in page
    form = client.get("/account/notifications").get_data(as_text=True)
    assert 'name="by_email"' in form and "checked" in form  # e-mail on by default
    response = submit(client, "/account/notifications", {"by_email": "y", "by_sms": "y"})
    assert response.status_code == 422
    assert "no phone number" in response.get_data(as_text=True)
    assert submit(client, "/account/notifications", {}).status_code == 302
    with database.app_context():
        row = db.session.get(User, handler.id)
        assert (row.notify_by_email, row.notify_by_sms) == (False, False)
    set_user(database, handler.id, phone="13700137000")
    assert submit(client, "/account/notifications", {"by_sms": "y"}).status_code == 302
    with database.app_context():
        row = db.session.get(User, handler.id)
        assert (row.notify_by_email, row.notify_by_sms) == (False, True)


def test_clients_keep_their_settings_on_their_account_page(client, database, people):
    as_user(client, people["citizen"])
    response = client.get("/account/notifications")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")


def test_history_can_be_written_quietly(database, world, people):
    case = make_case(database, people["citizen"], world)
    with database.app_context(), quiet():
        row = db.session.get(Case, case.id)
        perform(row, "dispatch", db.session.get(User, people["clerk"].id),
                ActionInput(department=db.session.get(Department, world.urban.id)))
        db.session.commit()
    assert told(database, "dispatched") == {}
    # The client is not told either: the step is history (``cases.notifications.silenced``).
    with database.app_context():
        client_messages = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "dispatch")).all()
        assert client_messages == []
