"""Reply templates: kept by department heads, used on one case or on many at once."""

from __future__ import annotations

from sqlalchemy import select

from cases.models import Case, CaseReply, CaseStatus, ReplyTemplate
from portal.db import db
from portal.models import Role
from tests.conftest import csrf_token, sign_in, submit
from tests.factories import make_case, make_user
from tests.test_lifecycle import step

BODY = "{client_name}，您好：您反映的“{title}”（编号 {number}）已处理完毕。"


def make_template(app, department_id=None, body=BODY, title="已处理完毕"):
    with app.app_context():
        template = ReplyTemplate(title=title, body=body, department_id=department_id)
        db.session.add(template)
        db.session.commit()
        return template.id


def test_head_creates_a_template_for_their_department(client, login_as, world, database):
    head = login_as(Role.DEPARTMENT_HEAD, department_id=world.urban.id)
    response = submit(client, "/reply-templates/new", {
        "title": "路灯维修", "body": "编号 {number} 的路灯已于今日修复。",
        "department": str(world.transport.id), "is_active": "y"})
    assert response.status_code == 302
    with database.app_context():
        template = db.session.scalar(select(ReplyTemplate))
        # A head keeps templates for their own department only, whatever the form says.
        assert template.department_id == head.department_id == world.urban.id
    assert "路灯维修" in client.get("/reply-templates").get_data(as_text=True)


def test_unknown_placeholder_is_refused(client, login_as, world, database):
    login_as(Role.DEPARTMENT_HEAD, department_id=world.urban.id)
    for body in ("您好 {name}", "未闭合 {number"):
        response = submit(client, "/reply-templates/new", {"title": "x", "body": body})
        assert response.status_code == 422
    with database.app_context():
        assert db.session.scalars(select(ReplyTemplate)).all() == []


def test_heads_cannot_edit_other_departments_templates(client, login_as, world, database):
    other = make_template(database, department_id=world.transport.id)
    login_as(Role.DEPARTMENT_HEAD, department_id=world.urban.id)
    assert client.get(f"/reply-templates/{other}/edit").status_code == 403
    login_as(Role.HANDLER)
    assert client.get("/reply-templates").status_code == 403


def test_reply_with_a_template_fills_in_the_case(client, world, database):
    template_id = make_template(database, department_id=world.urban.id)
    citizen = make_user(database, Role.CITIZEN, name="李雷")
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    case = make_case(database, citizen, world, title="路灯不亮")
    step(database, case.number, "dispatch", clerk, department=world.urban.id)
    step(database, case.number, "sign_for", handler)
    sign_in(client, handler.username)
    token = csrf_token(client, f"/cases/{case.number}")
    response = client.post(f"/cases/{case.number}/reply",
                           data={"csrf_token": token, "note": "", "template": str(template_id)})
    assert response.status_code == 302
    with database.app_context():
        reply = db.session.scalar(select(CaseReply))
        assert reply.body == f"李雷，您好：您反映的“路灯不亮”（编号 {case.number}）已处理完毕。"


def test_bulk_reply_answers_each_case_with_its_own_details(client, world, database):
    template_id = make_template(database, department_id=world.urban.id)
    clerk = make_user(database, Role.CLERK)
    handler = make_user(database, Role.HANDLER, department_id=world.urban.id)
    numbers = []
    for name in ("甲", "乙"):
        citizen = make_user(database, Role.CITIZEN, name=name)
        case = make_case(database, citizen, world, title=f"{name}的诉求")
        step(database, case.number, "dispatch", clerk, department=world.urban.id)
        step(database, case.number, "sign_for", handler)
        numbers.append(case.id)
    sign_in(client, handler.username)
    html = client.get("/queues/department").get_data(as_text=True)
    assert "/queues/department/reply" in html
    response = submit(client, "/queues/department",
                      {"cases": [str(i) for i in numbers], "template": str(template_id)},
                      action="/queues/department/reply")
    assert response.status_code == 302
    with database.app_context():
        cases = db.session.scalars(select(Case).order_by(Case.id)).all()
        assert [c.status for c in cases] == [CaseStatus.REPLIED, CaseStatus.REPLIED]
        bodies = [c.replies[0].body for c in cases]
        assert bodies[0].startswith("甲，您好") and bodies[1].startswith("乙，您好")


def test_bulk_reply_is_all_or_nothing(client, world, database):
    template_id = make_template(database)  # a citywide template
    clerk = make_user(database, Role.CLERK)
    citizen = make_user(database, Role.CITIZEN)
    open_case = make_case(database, citizen, world)
    closed = make_case(database, citizen, world)
    step(database, closed.number, "answer", clerk, note="已答复")
    step(database, closed.number, "close", clerk)
    sign_in(client, clerk.username)
    response = submit(client, "/queues/unassigned",
                      {"cases": [str(open_case.id), str(closed.id)], "template": str(template_id)},
                      action="/queues/unassigned/reply")
    assert response.status_code == 303
    with database.app_context():
        assert db.session.get(Case, open_case.id).status == CaseStatus.SUBMITTED
        # Only the closed case's earlier answer: the open one was not answered either.
        assert len(db.session.scalars(select(CaseReply)).all()) == 1


def test_anonymous_reporter_is_not_named_in_a_template(client, world, database):
    template_id = make_template(database)
    clerk = make_user(database, Role.CLERK)
    citizen = make_user(database, Role.CITIZEN, name="王五")
    case = make_case(database, citizen, world, anonymous=True)
    sign_in(client, clerk.username)
    token = csrf_token(client, f"/cases/{case.number}")
    client.post(f"/cases/{case.number}/answer",
                data={"csrf_token": token, "template": str(template_id)})
    with database.app_context():
        body = db.session.scalar(select(CaseReply.body))
        assert "王五" not in body and body.startswith("先生/女士")
