"""Every life-cycle step through HTTP: allowed (state changes, event written) and refused
(409/404, a reason in the page, nothing changed)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from cases.models import Case, CaseEvent, CaseReply, CaseStatus, RoutingRule
from cases.services import ActionInput, perform
from portal.db import db
from portal.models import Department, Role, User
from tests.conftest import csrf_token, sign_in
from tests.factories import make_case, make_user

S = CaseStatus


@dataclass
class Cast:
    clerk: User
    supervisor: User
    handler: User  # urban department
    head: User  # urban department
    other_handler: User  # transport department
    owner: User
    stranger: User  # another citizen
    official: User


@pytest.fixture
def cast(database, world) -> Cast:
    return Cast(
        clerk=make_user(database, Role.CLERK),
        supervisor=make_user(database, Role.SUPERVISOR),
        handler=make_user(database, Role.HANDLER, department_id=world.urban.id),
        head=make_user(database, Role.DEPARTMENT_HEAD, department_id=world.urban.id),
        other_handler=make_user(database, Role.HANDLER, department_id=world.transport.id),
        owner=make_user(database, Role.CITIZEN),
        stranger=make_user(database, Role.CITIZEN),
        official=make_user(database, Role.OFFICIAL),
    )


def step(app, number: str, action: str, user: User, **data) -> None:
    """Move a case along directly through the services (to set up a state)."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        actor = db.session.get(User, user.id)
        if "department" in data:
            data["department"] = db.session.get(Department, data["department"])
        perform(case, action, actor, ActionInput(**data))
        db.session.commit()


# How to bring a fresh (submitted) case into each state, as (action, who, data).
PATHS = {
    S.SUBMITTED: [],
    S.ACCEPTED: [("accept", "clerk", {})],
    S.DISPATCHED: [("accept", "clerk", {}), ("dispatch", "clerk", {"department": "urban"})],
    S.IN_PROGRESS: [
        ("accept", "clerk", {}),
        ("dispatch", "clerk", {"department": "urban"}),
        ("sign_for", "handler", {}),
    ],
    S.WAITING: [
        ("accept", "clerk", {}),
        ("dispatch", "clerk", {"department": "urban"}),
        ("sign_for", "handler", {}),
        ("request_info", "handler", {"note": "请补充照片"}),
    ],
    S.REPLIED: [
        ("accept", "clerk", {}),
        ("dispatch", "clerk", {"department": "urban"}),
        ("sign_for", "handler", {}),
        ("reply", "handler", {"note": "已处理完毕"}),
    ],
    S.CLOSED: [
        ("accept", "clerk", {}),
        ("dispatch", "clerk", {"department": "urban"}),
        ("sign_for", "handler", {}),
        ("reply", "handler", {"note": "已处理完毕"}),
        ("close", "clerk", {}),
    ],
}


def case_in(app, world, cast: Cast, state: CaseStatus):
    case = make_case(app, cast.owner, world)
    departments = {"urban": world.urban.id, "transport": world.transport.id}
    for action, who, data in PATHS[state]:
        data = {k: departments.get(v, v) if k == "department" else v for k, v in data.items()}
        step(app, case.number, action, getattr(cast, who), **data)
    return case


def as_user(client, user: User) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(client, user.username).status_code == 302


def post_action(client, number: str, action: str, **data):
    token = csrf_token(client, f"/cases/{number}")
    return client.post(f"/cases/{number}/{action}", data={"csrf_token": token, **data})


def stored(app, number: str) -> tuple[Case, list[str]]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        actions = [e.action for e in case.events]
        db.session.expunge(case)
        return case, actions


ALLOWED = [
    # (start, action, who, form data, expected state)
    (S.SUBMITTED, "accept", "clerk", {}, S.ACCEPTED),
    (S.SUBMITTED, "not_accept", "clerk", {"note": "不属于政府职能范围"}, S.NOT_ACCEPTED),
    (S.ACCEPTED, "not_accept", "supervisor", {"note": "重复提交"}, S.NOT_ACCEPTED),
    (S.SUBMITTED, "answer", "clerk", {"note": "可在政务服务网办理。"}, S.REPLIED),
    (S.ACCEPTED, "dispatch", "clerk", {"department": "urban"}, S.DISPATCHED),
    (S.SUBMITTED, "dispatch", "supervisor", {"department": "urban"}, S.DISPATCHED),
    (S.DISPATCHED, "transfer", "clerk", {"department": "transport", "note": "属道路问题"},
     S.DISPATCHED),
    (S.IN_PROGRESS, "transfer", "supervisor", {"department": "transport", "note": "改派"},
     S.DISPATCHED),
    (S.DISPATCHED, "sign_for", "handler", {}, S.IN_PROGRESS),
    (S.DISPATCHED, "sign_for", "head", {}, S.IN_PROGRESS),
    (S.DISPATCHED, "return", "handler", {"note": "非本单位职责"}, S.ACCEPTED),
    (S.IN_PROGRESS, "return", "head", {"note": "应由交通局处理"}, S.ACCEPTED),
    (S.IN_PROGRESS, "request_info", "handler", {"note": "请补充具体位置"}, S.WAITING),
    (S.WAITING, "resume", "handler", {}, S.IN_PROGRESS),
    (S.IN_PROGRESS, "reply", "handler", {"note": "已安排清运。"}, S.REPLIED),
    (S.SUBMITTED, "withdraw", "owner", {"note": "问题已自行解决", "confirm": "y"}, S.WITHDRAWN),
    (S.IN_PROGRESS, "withdraw", "owner", {"note": "问题已自行解决", "confirm": "y"}, S.WITHDRAWN),
    (S.WAITING, "withdraw", "owner", {"note": "问题已自行解决", "confirm": "y"}, S.WITHDRAWN),
    (S.REPLIED, "close", "clerk", {}, S.CLOSED),
    (S.REPLIED, "redo", "clerk", {"note": "群众不满意，请重新核实"}, S.IN_PROGRESS),
    (S.CLOSED, "reopen", "supervisor", {"note": "再次投诉"}, S.ACCEPTED),
]


@pytest.mark.parametrize(("start", "action", "who", "data", "expected"), ALLOWED,
                         ids=[f"{a}-from-{s.value}-by-{w}" for s, a, w, _d, _e in ALLOWED])
def test_allowed_step(client, database, world, cast, start, action, who, data, expected):
    case = case_in(database, world, cast, start)
    data = {k: str({"urban": world.urban.id, "transport": world.transport.id}.get(v, v))
            for k, v in data.items()}
    as_user(client, getattr(cast, who))
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/cases/{case.number}/{action}" in html  # the page offers exactly this step
    response = post_action(client, case.number, action, **data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    after, actions = stored(database, case.number)
    assert after.status == expected
    assert actions[-1] == action


REFUSED = [
    # (start, action, who, form data, expected HTTP status)
    (S.SUBMITTED, "accept", "owner", {}, 409),  # a client cannot accept
    (S.SUBMITTED, "accept", "handler", {}, 404),  # not the department's case: invisible
    (S.ACCEPTED, "accept", "clerk", {}, 409),  # already accepted
    (S.SUBMITTED, "not_accept", "clerk", {}, 409),  # reason missing
    (S.SUBMITTED, "dispatch", "clerk", {}, 409),  # department missing
    (S.DISPATCHED, "dispatch", "clerk", {"department": "urban"}, 409),  # already dispatched
    (S.DISPATCHED, "sign_for", "clerk", {}, 409),  # intake does not sign for
    (S.DISPATCHED, "sign_for", "other_handler", {}, 404),  # another department
    (S.IN_PROGRESS, "sign_for", "handler", {}, 409),  # already signed for
    (S.DISPATCHED, "return", "handler", {}, 409),  # reason missing
    (S.DISPATCHED, "transfer", "clerk", {"department": "urban", "note": "x"}, 409),  # same dept
    (S.DISPATCHED, "transfer", "handler", {"department": "transport", "note": "x"}, 409),
    (S.DISPATCHED, "reply", "handler", {"note": "答复"}, 409),  # not signed for yet
    (S.IN_PROGRESS, "reply", "handler", {}, 409),  # empty reply
    (S.IN_PROGRESS, "reply", "clerk", {"note": "答复"}, 409),  # intake cannot reply for them
    (S.IN_PROGRESS, "resume", "handler", {}, 409),  # not waiting
    (S.IN_PROGRESS, "request_info", "owner", {"note": "x"}, 409),
    (S.REPLIED, "withdraw", "owner", {}, 409),  # already answered
    (S.SUBMITTED, "withdraw", "stranger", {}, 404),  # someone else's case
    (S.SUBMITTED, "close", "clerk", {}, 409),  # nothing replied yet
    (S.REPLIED, "close", "handler", {}, 409),  # the service centre closes
    (S.REPLIED, "redo", "clerk", {}, 409),  # reason missing
    (S.CLOSED, "redo", "clerk", {"note": "x"}, 409),
    (S.CLOSED, "reopen", "clerk", {"note": "x"}, 409),  # supervisors only
    (S.CLOSED, "reopen", "official", {"note": "x"}, 409),  # officials read, never act
    (S.SUBMITTED, "explode", "clerk", {}, 409),
]


@pytest.mark.parametrize(("start", "action", "who", "data", "code"), REFUSED,
                         ids=[f"{a}-from-{s.value}-by-{w}" for s, a, w, _d, _c in REFUSED])
def test_refused_step_changes_nothing(client, database, world, cast, start, action, who, data,
                                      code):
    case = case_in(database, world, cast, start)
    before, before_actions = stored(database, case.number)
    data = {k: str({"urban": world.urban.id, "transport": world.transport.id}.get(v, v))
            for k, v in data.items()}
    as_user(client, getattr(cast, who))
    if code == 404:
        assert client.get(f"/cases/{case.number}").status_code == 404
        token = csrf_token(client, "/")
        response = client.post(f"/cases/{case.number}/{action}",
                               data={"csrf_token": token, **data})
    else:
        response = post_action(client, case.number, action, **data)
    assert response.status_code == code
    if code == 409:
        assert 'role="alert"' in response.get_data(as_text=True)
    after, actions = stored(database, case.number)
    assert (after.status, after.department_id, actions) == (
        before.status, before.department_id, before_actions)


def test_refusal_is_explained_in_the_page_language(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.clerk)
    html = post_action(client, case.number, "close").get_data(as_text=True)
    assert "该诉求当前状态为“待受理”，现在不能这样处理。" in html
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en"})
    html = post_action(client, case.number, "close").get_data(as_text=True)
    assert "This case is Submitted; it cannot be changed that way now." in html


def test_page_offers_only_the_steps_the_user_may_take(client, database, world, cast):
    case = case_in(database, world, cast, S.DISPATCHED)
    as_user(client, cast.handler)
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    for action in ("sign_for", "return"):
        assert f"/cases/{case.number}/{action}\"" in html
    for action in ("accept", "dispatch", "close", "reply", "transfer", "withdraw"):
        assert f"/cases/{case.number}/{action}\"" not in html
    as_user(client, cast.owner)
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/cases/{case.number}/withdraw\"" in html
    assert f"/cases/{case.number}/sign_for\"" not in html


def test_dispatch_with_assisting_departments(client, database, world, cast):
    case = case_in(database, world, cast, S.ACCEPTED)
    as_user(client, cast.clerk)
    token = csrf_token(client, f"/cases/{case.number}")
    response = client.post(f"/cases/{case.number}/dispatch", data={
        "csrf_token": token, "department": str(world.urban.id),
        "assisting": [str(world.transport.id)]})
    assert response.status_code == 302
    # The assisting department sees the case and may give its opinion as a note ...
    as_user(client, cast.other_handler)
    assert client.get(f"/cases/{case.number}").status_code == 200
    assert post_action(client, case.number, "note", note="协办意见：道路已修复").status_code == 302
    # ... but cannot sign for it: only the lead department can.
    assert post_action(client, case.number, "sign_for").status_code == 409
    # The client never sees internal notes.
    as_user(client, cast.owner)
    assert "协办意见" not in client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_transfer_counts_departments_and_restarts_sign_clock(client, database, world, cast):
    case = case_in(database, world, cast, S.DISPATCHED)
    first, _ = stored(database, case.number)
    as_user(client, cast.clerk)
    post_action(client, case.number, "transfer", department=str(world.transport.id),
                note="属交通部门")
    after, _ = stored(database, case.number)
    assert after.department_id == world.transport.id and after.departments_passed == 2
    assert after.sign_due_at >= first.sign_due_at
    assert after.reply_due_at == first.reply_due_at  # the client's clock does not restart


def test_return_then_redispatch_and_redo(client, database, world, cast):
    case = case_in(database, world, cast, S.DISPATCHED)
    step(database, case.number, "return", cast.handler, note="非本单位职责")
    after, _ = stored(database, case.number)
    assert after.status == S.ACCEPTED and after.department_id is None and after.due_at is None
    step(database, case.number, "dispatch", cast.clerk, department=world.transport.id)
    step(database, case.number, "sign_for", cast.other_handler)
    step(database, case.number, "reply", cast.other_handler, note="已修复")
    step(database, case.number, "redo", cast.clerk, note="群众反映仍未修复")
    after, actions = stored(database, case.number)
    assert after.status == S.IN_PROGRESS and after.redo_count == 1
    assert actions == ["file", "accept", "dispatch", "return", "dispatch", "sign_for", "reply",
                       "redo"]


def test_redo_of_an_intake_answer_is_refused(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    step(database, case.number, "answer", cast.clerk, note="已答复")
    as_user(client, cast.clerk)
    response = post_action(client, case.number, "redo", note="不满意")
    assert response.status_code == 409


def test_reply_is_public_and_reasons_of_refusal_reach_the_client(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    step(database, case.number, "reply", cast.handler, note="路灯已修复，感谢监督。")
    as_user(client, cast.owner)
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "路灯已修复，感谢监督。" in html
    other = case_in(database, world, cast, S.SUBMITTED)
    step(database, other.number, "not_accept", cast.clerk, note="属于司法程序，请向法院反映")
    assert "属于司法程序" in client.get(f"/cases/{other.number}").get_data(as_text=True)


def test_new_case_is_routed_by_rule_district_rule_first(client, database, world, cast):
    with database.app_context():
        db.session.add_all([
            RoutingRule(category_id=world.noise.id, department_id=world.urban.id, position=1),
            RoutingRule(category_id=world.noise.id, district_id=world.taijiang.id,
                        department_id=world.transport.id, position=2),
        ])
        db.session.commit()
    citywide = make_case(database, cast.owner, world, district_id=world.gulou.id)
    local = make_case(database, cast.owner, world, district_id=world.taijiang.id)
    unrouted = make_case(database, cast.owner, world, category_id=world.potholes.id)
    a, actions = stored(database, citywide.number)
    assert (a.status, a.department_id, actions) == (S.DISPATCHED, world.urban.id,
                                                    ["file", "route"])
    assert a.sign_due_at is not None and a.due_at == a.sign_due_at
    b, _ = stored(database, local.number)
    assert b.department_id == world.transport.id
    c, _ = stored(database, unrouted.number)
    assert c.status == S.SUBMITTED and c.department_id is None


# --- records that do not change the state ---------------------------------------


def test_urge_and_supervise_are_recorded_and_shown_to_the_handler(client, database, world,
                                                                  cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.clerk)
    assert post_action(client, case.number, "urge", note="请加快办理").status_code == 302
    assert post_action(client, case.number, "supervise").status_code == 409  # supervisors only
    as_user(client, cast.supervisor)
    assert post_action(client, case.number, "supervise", note="列入督办").status_code == 302
    assert post_action(client, case.number, "supervise").status_code == 409  # once
    after, actions = stored(database, case.number)
    assert after.urge_count == 1 and after.supervised and actions[-2:] == ["urge", "supervise"]
    as_user(client, cast.handler)
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "催办 1 次" in html and "督办中" in html
    assert case.number in client.get("/queues/supervised").get_data(as_text=True)


def test_extension_approved_moves_the_reply_deadline(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    before, _ = stored(database, case.number)
    as_user(client, cast.handler)
    response = post_action(client, case.number, "extension", days="5", note="需协调多个部门")
    assert response.status_code == 302
    assert post_action(client, case.number, "extension", days="2",
                       note="again").status_code == 409  # one pending at a time
    as_user(client, cast.clerk)
    assert post_action(client, case.number, "decide_extension",
                       decision="approve").status_code == 409
    as_user(client, cast.supervisor)
    assert post_action(client, case.number, "decide_extension").status_code == 422
    response = post_action(client, case.number, "decide_extension", decision="approve",
                           note="同意")
    assert response.status_code == 302
    after, actions = stored(database, case.number)
    assert after.reply_due_at > before.reply_due_at and after.due_at == after.reply_due_at
    assert actions[-2:] == ["extension", "extension_approved"]


def test_extension_refused_keeps_the_deadline(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    before, _ = stored(database, case.number)
    step(database, case.number, "extension", cast.handler, days=3, note="需要时间")
    step(database, case.number, "decide_extension", cast.supervisor, approve=False, note="不同意")
    after, actions = stored(database, case.number)
    assert after.reply_due_at == before.reply_due_at and actions[-1] == "extension_refused"


def test_extension_days_are_checked(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.handler)
    assert post_action(client, case.number, "extension", days="99", note="x").status_code == 422
    assert post_action(client, case.number, "extension", days="abc", note="x").status_code == 422
    _, actions = stored(database, case.number)
    assert actions[-1] == "sign_for"


def test_claim_at_intake_and_in_the_department(client, database, world, cast):
    case = case_in(database, world, cast, S.SUBMITTED)
    as_user(client, cast.clerk)
    assert post_action(client, case.number, "claim").status_code == 302
    assert case.number in client.get("/queues/mine").get_data(as_text=True)
    as_user(client, cast.supervisor)
    assert post_action(client, case.number, "claim").status_code == 409  # taken
    after, _ = stored(database, case.number)
    assert after.assignee_id == cast.clerk.id
    with database.app_context():
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == after.id))
        assert [e.is_public for e in events if e.action == "claim"] == [False]


def test_internal_note_needs_text(client, database, world, cast):
    case = case_in(database, world, cast, S.IN_PROGRESS)
    as_user(client, cast.handler)
    assert post_action(client, case.number, "note", note=" ").status_code == 409
    with database.app_context():
        assert db.session.scalars(select(CaseReply)).all() == []


def test_clerk_classifies_at_intake_and_routing_suggests_a_department(client, database, world,
                                                                      cast):
    with database.app_context():
        db.session.add(RoutingRule(category_id=world.potholes.id,
                                   department_id=world.transport.id, is_active=True))
        db.session.commit()
    case = case_in(database, world, cast, S.SUBMITTED)  # noise: no rule, waits at intake
    as_user(client, cast.clerk)
    response = post_action(client, case.number, "classify", case_type="help",
                           category=str(world.potholes.id), priority="urgent")
    assert response.status_code == 302
    after, actions = stored(database, case.number)
    assert (after.type.value, after.category_id, after.priority.value) == (
        "help", world.potholes.id, "urgent")
    assert actions[-1] == "classify"
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f'<option value="{world.transport.id}" selected>' in html  # suggested department
    # Nothing to change, or a parent category: refused.
    assert post_action(client, case.number, "classify", case_type="help").status_code == 409
    assert post_action(client, case.number, "classify",
                       category=str(world.parent.id)).status_code == 422  # not a leaf
    # After dispatch, classification is no longer offered.
    step(database, case.number, "dispatch", cast.clerk, department=world.transport.id)
    assert post_action(client, case.number, "classify", priority="low").status_code == 409
