"""The case page (issue 10, items 5, 10, 11): the next likely step first, the others one
click away; the reply template read before it is sent; flashes that say what was done; a
withdrawal that asks for a reason and a confirmation; a timeline that says each event once,
in the reader's language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseReply, ReplyTemplate
from cases.page_actions import RARELY_USED, next_step, plan_actions
from cases.public import Audience, event_details
from portal.db import db
from portal.models import User
from tests import test_lifecycle
from tests.conftest import csrf_token
from tests.test_lifecycle import S, as_user, case_in, post_action, step, stored

cast = test_lifecycle.cast  # the people of tests/test_lifecycle.py (a fixture)




# --- the rule: the next likely step per state and role ---------------------------------

INTAKE_SUBMITTED = ["accept", "not_accept", "answer", "dispatch", "merge", "claim", "classify",
                    "note", "link"]


@pytest.mark.parametrize(("status", "offered", "client", "expected"), [
    (S.SUBMITTED, INTAKE_SUBMITTED, False, "dispatch"),  # clerk at intake
    (S.SUBMITTED, ["accept", "not_accept", "answer"], False, "accept"),
    (S.ACCEPTED, ["not_accept", "answer", "dispatch", "claim"], False, "dispatch"),
    (S.DISPATCHED, ["sign_for", "return", "note"], False, "sign_for"),  # handler
    (S.DISPATCHED, ["transfer", "urge", "assist", "note"], False, None),  # clerk watches
    (S.IN_PROGRESS, ["return", "request_info", "reply", "extension"], False, "reply"),
    (S.IN_PROGRESS, ["transfer", "urge", "supervise", "note", "decide_extension"], False,
     "decide_extension"),  # a supervisor with a pending extension request
    (S.WAITING, ["return", "resume", "note"], False, "resume"),
    (S.REPLIED, ["close", "redo", "note"], False, "close"),  # intake
    (S.CLOSED, ["reopen"], False, None),  # supervisor: reopening is rare
    (S.SUBMITTED, ["withdraw"], True, "add_info"),  # the client adds information
    (S.IN_PROGRESS, ["note"], False, None),  # an official only notes
])
def test_next_step_per_state_and_role(status, offered, client, expected):
    assert next_step(status, offered, is_client=client, may_add_information=client) == expected


def test_plan_puts_the_rare_steps_under_more_actions():
    plan = plan_actions(S.SUBMITTED, INTAKE_SUBMITTED)
    assert plan.primary == "dispatch"
    assert plan.common == ["accept", "answer", "claim", "classify", "note"]
    assert plan.more == ["not_accept", "merge", "link"]
    assert set(plan.more) <= RARELY_USED
    client = plan_actions(S.SUBMITTED, ["withdraw"], is_client=True, may_add_information=True)
    assert (client.primary, client.common, client.more) == ("add_info", ["withdraw"], [])
    closed = plan_actions(S.CLOSED, ["withdraw"], is_client=True, may_add_information=False)
    assert closed.primary is None


# --- the page: primary action, the others behind a disclosure ------------------------

def primary_block(html: str) -> str:
    match = re.search(r'<div class="action-primary">(.*?)</form>', html, re.S)
    return match.group(1) if match else ""


def primary_action(html: str) -> str | None:
    found = re.search(r'class="action action--(\w+)"', primary_block(html))
    return found.group(1) if found else None


def disclosed(html: str) -> set[str]:
    """Actions whose form sits in a closed ``<details>`` (one click away)."""
    return set(re.findall(r'<details class="action-disclosure action-disclosure--(\w+)">', html))


def page(client, number: str) -> str:
    response = client.get(f"/cases/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("state", "who", "primary", "behind"), [
    (S.SUBMITTED, "clerk", "dispatch", {"accept", "answer", "classify", "note", "claim"}),
    (S.DISPATCHED, "handler", "sign_for", {"return", "note"}),
    (S.IN_PROGRESS, "handler", "reply", {"request_info", "return", "extension", "note"}),
    (S.WAITING, "handler", "resume", {"extension", "note"}),
    (S.REPLIED, "clerk", "close", {"redo", "note"}),
])
def test_page_shows_the_next_step_first(client, database, world, cast, state, who, primary,
                                        behind):
    case = case_in(database, world, cast, state)
    as_user(client, getattr(cast, who))
    html = page(client, case.number)
    assert primary_action(html) == primary
    assert behind <= disclosed(html)
    assert primary not in disclosed(html)
    # The primary form's button is the filled one; the others are secondary.
    assert 'class="button">' in primary_block(html)
    assert html.count('class="action-primary"') == 1


def test_rare_steps_wait_under_more_actions(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.clerk)
    html = page(client, case.number)
    more = html[html.index('<details class="action-more">'):]
    assert '<summary>更多操作</summary>' in more or '<summary>More actions</summary>' in more
    for action in ("not_accept", "merge", "link"):
        assert f'action-disclosure--{action}"' in more
    assert "action-disclosure--accept" not in more


def test_supervisor_decides_a_pending_extension_first(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    step(database, case.number, "extension", cast.handler, days=3, note="需协调多个部门")
    as_user(client, cast.supervisor)
    assert primary_action(page(client, case.number)) == "decide_extension"


def test_citizen_adds_information_first_and_withdraws_behind_a_disclosure(client, database,
                                                                          world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.owner)
    html = page(client, case.number)
    assert primary_action(html) is None  # no action form is the primary one ...
    assert html.index('id="add-info-heading"') < html.index('id="actions-heading"')  # ... this is
    assert "withdraw" in disclosed(html)
    withdraw = html[html.index('class="action action--withdraw"'):]
    withdraw = withdraw[:withdraw.index("</form>")]
    assert 'class="button button--secondary"' in withdraw
    assert re.search(r'<textarea id="note-withdraw" name="note"[^>]*required', withdraw)
    assert re.search(r'<input type="checkbox" name="confirm" value="y" required', withdraw)


def test_a_failed_step_opens_its_disclosure(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.handler)
    html = post_action(client, case.number, "extension", days="99", note="x").get_data(
        as_text=True)
    assert '<details class="action-disclosure action-disclosure--extension" open>' in html


# --- withdrawing: a reason and a confirmation ------------------------------------------

def english(client) -> None:
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en"})


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Tell us why you withdraw the request."),
    ({"note": "问题已解决"}, "Confirm that you want to withdraw the request."),
    ({"note": "  ", "confirm": "y"}, "Tell us why you withdraw the request."),
])
def test_withdraw_needs_a_reason_and_a_confirmation(client, database, world, cast, data,
                                                     message):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.owner)
    english(client)
    response = post_action(client, case.number, "withdraw", **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    after, actions = stored(database, case.number)
    assert after.status == S.SUBMITTED and actions == ["file"]


def test_withdraw_stores_the_reason_for_staff(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.owner)
    english(client)
    response = post_action(client, case.number, "withdraw", note="问题已自行解决", confirm="y")
    assert response.status_code == 302
    assert f"Your request {case.number} is withdrawn." in page(client, case.number)
    after, actions = stored(database, case.number)
    assert after.status == S.WITHDRAWN and actions[-1] == "withdraw"
    with database.app_context():
        event = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == after.id, CaseEvent.action == "withdraw")
        ).one()
        assert event.note == "问题已自行解决"
    as_user(client, cast.clerk)
    timeline = page(client, case.number).split('id="timeline-heading"')[1]
    assert '<div class="timeline__note">问题已自行解决</div>' in timeline


# --- the reply template, read before it is sent ---------------------------------------

@pytest.fixture
def template(database):
    with database.app_context():
        row = ReplyTemplate(title="已办结通知",
                            body="{client_name}，您好：诉求 {number} 已办理完毕。")
        db.session.add(row)
        db.session.commit()
        return row.id


def test_preview_fills_the_template_into_the_text_field(client, database, world, cast,
                                                        template):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.handler)
    response = post_action(client, case.number, "reply", template=str(template), preview="1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    textarea = re.search(r'<textarea id="note-reply" name="note"[^>]*>([^<]*)</textarea>', html)
    assert textarea, html[-3000:]
    filled = textarea.group(1)  # editable, in the form: the template filled in for this case
    assert "{" not in filled and filled.endswith(f"，您好：诉求 {case.number} 已办理完毕。")
    assert "测试用户" in filled  # the client's name
    assert f'<option value="{template}" selected>' in html
    assert primary_action(html) == "reply"
    # Nothing was sent.
    after, actions = stored(database, case.number)
    assert after.status == S.IN_PROGRESS and actions[-1] == "sign_for"
    # The sender edits the text and sends it: what they read is what goes out.
    edited = filled.replace("已办理完毕", "已办理完毕，路灯已修复")
    assert post_action(client, case.number, "reply", template=str(template),
                       note=edited).status_code == 302
    with database.app_context():
        bodies = db.session.scalars(select(CaseReply.body).where(
            CaseReply.case_id == case.id)).all()
        assert bodies == [edited.strip()]


def test_preview_without_a_template_or_by_a_client_is_refused(client, database, world, cast,
                                                               template):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.handler)
    english(client)
    response = post_action(client, case.number, "reply", preview="1")
    assert response.status_code == 422
    assert "Choose a reply template to preview." in response.get_data(as_text=True)
    as_user(client, cast.owner)
    response = post_action(client, case.number, "reply", template=str(template), preview="1")
    assert response.status_code == 409
    assert "已办理完毕" not in response.get_data(as_text=True)
    after, _ = stored(database, case.number)
    assert after.status == S.IN_PROGRESS


# --- flash messages: what was done -----------------------------------------------------

def flash_after(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    found = re.search(r'<p class="alert alert--success">([^<]*)</p>', html)
    assert found, html[-2000:]
    return found.group(1)


def test_each_step_says_what_it_did(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    n = case.number
    as_user(client, cast.clerk)
    english(client)
    assert flash_after(client, post_action(client, n, "dispatch", department=str(
        world.urban.id))) == f"Case {n} dispatched to Urban Management Bureau."
    as_user(client, cast.handler)
    english(client)
    assert flash_after(client, post_action(client, n, "sign_for")).startswith(
        f"Case {n} signed for; the reply is due by ")
    assert flash_after(client, post_action(client, n, "extension", days="3", note="需协调")) == (
        "Extension of 3 working days requested; a supervisor will decide.")
    as_user(client, cast.supervisor)
    english(client)
    assert flash_after(client, post_action(client, n, "decide_extension", decision="refuse")) == (
        "Extension refused; the deadline stays.")
    as_user(client, cast.handler)
    assert flash_after(client, post_action(client, n, "reply", note="已修复")) == (
        f"Case {n} replied; the client is told.")
    as_user(client, cast.clerk)
    assert flash_after(client, post_action(client, n, "close")) == "Case closed."


# --- the timeline: each event once, in the reader's language -------------------------

def timeline_of(html: str) -> list[str]:
    """Each timeline line as text (tags dropped, spaces squeezed)."""
    section = html.split('id="timeline-heading"')[1].split("</ol>")[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def test_timeline_says_each_event_once_in_chinese(client, database, world, cast):
    case = case_in(database, world, cast, S.ACCEPTED)
    step(database, case.number, "dispatch", cast.clerk, department=world.urban.id)
    step(database, case.number, "claim", cast.handler)
    as_user(client, cast.clerk)
    lines = timeline_of(page(client, case.number))
    dispatch = next(line for line in lines if "已派单" in line)
    assert dispatch.count("已派单") == 1 and "→" not in dispatch
    assert dispatch.count("城市管理局") == 1
    claim = next(line for line in lines if "已认领" in line)
    assert claim.count(cast.handler.display_name) == 1


def test_classification_reads_in_the_readers_language(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.clerk)
    assert post_action(client, case.number, "classify", case_type="help",
                       category=str(world.potholes.id), priority="urgent").status_code == 302
    with database.app_context():
        event = db.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "classify")).one()
        assert event.note is None
        assert event.details == {"type": ["complaint", "help"],
                                 "category": [world.noise.id, world.potholes.id],
                                 "priority": ["normal", "urgent"]}
    english(client)
    lines = timeline_of(page(client, case.number))
    line = next(x for x in lines if "Classified" in x)
    assert ("Type: Complaint → Request for help; Category: Noise → Potholes; "
            "Priority: Normal → Urgent") in line
    assert not re.search(r"[\u4e00-\u9fff]", line.split("Classified")[1].replace(
        cast.clerk.display_name, ""))  # no Chinese left but the clerk's name
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "zh_CN"})
    line = next(x for x in timeline_of(page(client, case.number)) if "已分类" in x
                or "Classified" in x)
    assert "噪声扰民 → 道路破损" in line and "；" in line and "; " not in line


def test_client_reads_the_department_but_no_internal_step(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.clerk)
    assert post_action(client, case.number, "classify", priority="urgent").status_code == 302
    step(database, case.number, "dispatch", cast.clerk, department=world.urban.id)
    as_user(client, cast.owner)
    html = page(client, case.number)
    timeline = " ".join(timeline_of(html))
    assert "城市管理局" in timeline
    assert "紧急" not in timeline and "urgent" not in timeline.lower()
    with database.app_context():
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        by_action = {e.action: e for e in events}
        classify, dispatch = by_action["classify"], by_action["dispatch"]
        assert event_details(dispatch, Audience.CLIENT) == {"department": world.urban.id}
        assert event_details(dispatch, Audience.PUBLIC) == {}
        assert event_details(classify, Audience.CLIENT) == {}
        assert event_details(classify, Audience.STAFF)["priority"] == ["normal", "urgent"]


def test_old_note_only_events_still_render(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    with database.app_context():
        row = db.session.get(Case, case.id)
        clerk = db.session.get(User, cast.clerk.id)
        db.session.add_all([
            CaseEvent(case=row, actor=clerk, action="classify",
                      note="投诉 → 求助; 噪声扰民 → 道路破损", is_public=False),
            CaseEvent(case=row, actor=clerk, action="claim", note=clerk.display_name,
                      is_public=False),
            CaseEvent(case=row, actor=clerk, action="dispatch", from_status=S.SUBMITTED,
                      to_status=S.DISPATCHED, note="城市管理局"),
        ])
        db.session.commit()
    as_user(client, cast.clerk)
    lines = timeline_of(page(client, case.number))
    assert any("投诉 → 求助; 噪声扰民 → 道路破损" in line for line in lines)
    claim = next(line for line in lines if "已认领" in line)
    assert claim.count(cast.clerk.display_name) == 1
    dispatch = next(line for line in lines if "已派单" in line)
    assert "城市管理局" in dispatch and "→" not in dispatch


def test_escalation_reason_reads_in_the_readers_language(client, database, world, cast):
    """The sweep stores why it escalated as data; old rows stored the reason's code."""
    case = case_in(database, world, cast, S.IN_PROGRESS)
    with database.app_context():
        row = db.session.get(Case, case.id)
        db.session.add_all([
            CaseEvent(case=row, actor_kind="system", action="escalate", is_public=False,
                      details={"reason": "redone"}),
            CaseEvent(case=row, actor_kind="system", action="escalate", note="overdue",
                      is_public=False),
        ])
        db.session.commit()
    as_user(client, cast.clerk)
    lines = [line for line in timeline_of(page(client, case.number)) if "已升级" in line]
    assert len(lines) == 2
    assert "多次发回重办" in lines[0] and "超期" in lines[1]
    assert "overdue" not in " ".join(lines) and "redone" not in " ".join(lines)


def test_timeline_names_load_at_most_once(client, database, world, cast):
    from sqlalchemy import event as sa_event

    case = case_in(database, world, cast, S.IN_PROGRESS)
    with database.app_context():
        row = db.session.get(Case, case.id)
        for department in (world.transport, world.urban, world.transport):
            db.session.add(CaseEvent(case=row, action="assist", is_public=False,
                                     details={"departments": [department.id]}))
        db.session.commit()
        engine = db.engine
    as_user(client, cast.clerk)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        html = page(client, case.number)
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    lines = [line for line in timeline_of(html) if "协办单位：" in line or "协办单位:" in line]
    assert len(lines) == 3 and sum("交通运输局" in line for line in lines) == 2
    # The names come from the per-process reference snapshot (portal/refdata.py): read
    # whole at most once, never once per timeline line.
    department_reads = [s for s in statements if "FROM departments" in s]
    assert len(department_reads) <= 1
    assert not [s for s in statements if "FROM departments" in s and " IN " in s]
