"""The demo city (``flask demo load``) and the pinyin order of departments, districts and
clients."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cases.catalogue.models import CategoryQuestion
from cases.demo import DEMO_PASSWORD, DEMO_USERS
from cases.demo.catalogue import AT_INTAKE_LEAVES
from cases.models import (
    Case,
    CaseAnswer,
    CaseEvent,
    CaseStatus,
    Category,
    DueState,
    ExtensionRequest,
    ExtensionStatus,
    ReplyTemplate,
    RoutingRule,
)
from cases.services import allowed_transitions, leaf_categories
from citizens.models import ClientKind
from citizens.services import create_client
from portal.db import db
from portal.models import Department, District, Role, User
from tests.conftest import sign_in
from tests.factories import make_case, make_user

QUEUE_STATUSES = {
    CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING, CaseStatus.REPLIED, CaseStatus.CLOSED,
}


def staff_of(department: Department, role: Role) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.department_id == department.id, User.role == role, User.active.is_(True)
    )))


def test_demo_city_is_whole(database):
    """One load of the demo city (it is the slowest thing the suite does) checked whole:
    ``--if-empty`` fills an empty database once, the logins, the catalogue, the cases and
    their timelines, the category questions, and the sweep over its history."""
    runner = database.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty", "--cases", "120"])
    assert result.exit_code == 0, result.output
    assert "housing-handler" in result.output  # the logins of every department are printed
    for spec in DEMO_USERS:
        assert f"{spec.role.value}: {spec.username} / {DEMO_PASSWORD}" in result.output
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "demo data not loaded" in again.output
    with database.app_context():
        assert set(db.session.scalars(select(User.role))) == set(Role)
        # Every case has a timeline that starts with its filing.
        first_actions = db.session.scalars(
            select(CaseEvent.action).where(
                CaseEvent.id.in_(select(func.min(CaseEvent.id)).group_by(CaseEvent.case_id))
            )
        ).all()
        assert len(first_actions) == 120 and set(first_actions) == {"file"}
        departments = db.session.scalars(select(Department)).all()
        assert len(departments) >= 12
        for department in departments:  # every department can sign for and decide
            assert staff_of(department, Role.HANDLER), department.code
            assert staff_of(department, Role.DEPARTMENT_HEAD), department.code

        # Every leaf is routed to an active department, or kept at intake on purpose.
        for leaf in leaf_categories():
            assert leaf.name_zh and leaf.name_en
            rules = db.session.scalars(select(RoutingRule).where(
                RoutingRule.category_id == leaf.id, RoutingRule.district_id.is_(None)
            )).all()
            if leaf.code in AT_INTAKE_LEAVES:
                assert not rules and (leaf.name_zh == "其他" or leaf.code == "services.praise")
            else:
                assert [r.department.is_active for r in rules] == [True], leaf.code
        # What people really report, each sent to the department whose name fits.
        lights = db.session.scalar(select(Category).where(Category.name_zh == "路灯不亮"))
        rule = db.session.scalar(select(RoutingRule).where(RoutingRule.category_id == lights.id))
        assert rule.department.name_zh == "城市管理局"
        top_other = db.session.scalar(select(Category).where(Category.code == "other"))
        assert top_other.parent_id is None and top_other.name_zh == "其他"
        branches = db.session.scalars(select(Category).where(Category.parent_id.is_(None)))
        for branch in branches:
            if branch.code != "other":
                assert db.session.scalar(select(Category).where(
                    Category.parent_id == branch.id, Category.name_zh == "其他"
                )), branch.code
        # Reply templates: general ones for intake's answers, and every department's.
        templates = db.session.scalars(select(ReplyTemplate)).all()
        assert sum(t.department_id is None for t in templates) >= 2
        assert {t.department_id for t in templates} >= {d.id for d in departments}

        # Every case being handled can be signed for and handled by its department.
        cases = db.session.scalars(select(Case)).all()
        assert len(cases) == 120
        for case in cases:
            if case.status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS,
                               CaseStatus.WAITING):
                assert staff_of(case.department, Role.HANDLER), case.number
            if case.status == CaseStatus.DISPATCHED:
                handler = staff_of(case.department, Role.HANDLER)[0]
                assert "sign_for" in {t.action for t in allowed_transitions(case, handler)}
        statuses = {case.status for case in cases}
        assert statuses >= QUEUE_STATUSES
        assert any(case.supervised for case in cases) and any(c.urge_count for c in cases)
        assert db.session.scalar(select(func.count()).select_from(ExtensionRequest).where(
            ExtensionRequest.status == ExtensionStatus.PENDING
        ))
        # A few weeks of history, on coherent timelines: filed first, in order, with
        # deadlines counted from the steps' own times.
        filed = [case.created_at for case in cases]
        assert max(filed) - min(filed) >= timedelta(weeks=3)
        for case in cases:
            times = [event.created_at for event in case.events]
            assert case.events[0].action == "file" and times == sorted(times), case.number
            assert times[0] == case.created_at
            if case.dispatched_at is not None:
                assert case.reply_due_at > case.dispatched_at >= case.created_at
            if case.closed_at is not None:
                assert case.closed_at >= times[0]

    demo_categories_ask_questions_and_demo_cases_answer(database)

    # The sweep finds what the history left overdue.
    swept = runner.invoke(args=["cases", "sweep"])
    assert swept.exit_code == 0, swept.output
    with database.app_context():
        overdue = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.due_state == DueState.OVERDUE)
        )
        assert overdue >= 1
        assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.action == "overdue"
        )) == overdue


def demo_categories_ask_questions_and_demo_cases_answer(database) -> None:
    """The demo's street lights ask three questions, and a demo case shows its answers."""
    with database.app_context():
        lights = db.session.scalar(select(Category).where(Category.code == "roads.lights"))
        codes = [q.code for q in lights.questions]
        assert codes == ["pole_number", "fault", "lamp_count"] and lights.keywords
        answered = db.session.execute(
            select(Case.number, CategoryQuestion.question_zh)
            .join(CaseAnswer, CaseAnswer.case_id == Case.id)
            .join(CategoryQuestion, CaseAnswer.question_id == CategoryQuestion.id)
            .where(CategoryQuestion.required).order_by(Case.id)).first()
        assert answered is not None  # (which demo categories get cases varies by date)
    client = database.test_client()
    assert sign_in(client, "admin", DEMO_PASSWORD).status_code == 302
    page = client.get(f"/cases/{answered.number}").get_data(as_text=True)
    assert answered.question_zh in page


def test_demo_load_refuses_a_filled_database(database):
    runner = database.test_cli_runner()
    assert runner.invoke(args=["demo", "load", "--cases", "3"]).exit_code == 0
    again = runner.invoke(args=["demo", "load", "--cases", "3"])
    assert again.exit_code != 0 and "demo data not loaded" in again.output
    with database.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 3
    logins = runner.invoke(args=["demo", "logins"])
    assert "handler: handler / Demo-2026" in logins.output
    assert "department_head: police-head" in logins.output


def test_a_department_handler_of_the_demo_signs_in(database):
    database.test_cli_runner().invoke(args=["demo", "load", "--cases", "5"])
    client = database.test_client()
    assert sign_in(client, "police-handler", "Demo-2026").status_code == 302
    assert client.get("/queues/department").status_code == 200


# --- pinyin order -----------------------------------------------------------------


def options(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return [t.strip() for t in re.findall(r"<option[^>]*>([^<]*)</option>", select_html)]


def test_departments_and_districts_are_offered_in_pinyin_order(app, client, world):
    with app.app_context():
        db.session.add_all([
            Department(code="police", name_zh="公安局", name_en="Police"),
            Department(code="education", name_zh="教育局", name_en="Education"),
            Department(code="housing", name_zh="住房和城乡建设局", name_en="Housing"),
            District(code="antai", name_zh="安泰区", name_en="Antai", position=9),
        ])
        db.session.commit()
    citizen = make_user(app, Role.CITIZEN)
    case = make_case(app, citizen, world)
    make_user(app, Role.CLERK, username="pinyin-clerk")
    sign_in(client, "pinyin-clerk", headers={"Accept-Language": "zh-CN"})
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    # 城 cheng, 公 gong, 交 jiao tong, 教 jiao yu, 住 zhu (by code it was 教 住 公 交 城).
    assert [o for o in options(page, "department") if o.endswith("局")] == [
        "城市管理局", "公安局", "交通运输局", "教育局", "住房和城乡建设局"
    ]
    form = client.get("/intake/new").get_data(as_text=True)
    assert [o for o in options(form, "district") if o.endswith("区")] == [
        "安泰区", "鼓楼区", "台江区"
    ]


def test_clients_are_listed_in_pinyin_order(app, client, world):
    with app.app_context():
        for name in ("张三", "李四", "王五"):
            create_client(kind=ClientKind.CITIZEN, name=name)
        db.session.commit()
    make_user(app, Role.CLERK, username="list-clerk")
    sign_in(client, "list-clerk")
    page = client.get("/clients?sort=name").get_data(as_text=True)
    positions = [page.index(name) for name in ("李四", "王五", "张三")]
    assert positions == sorted(positions)


@pytest.mark.search
def test_the_demo_help_pages_have_answers(database):
    """``/help`` of a fresh demo shows published answers and finds one by a word inside a
    sentence; the answer still in review stays out of sight."""
    runner = database.test_cli_runner()
    assert runner.invoke(args=["demo", "load", "--cases", "20"]).exit_code == 0
    client = database.test_client()
    page = client.get("/help").get_data(as_text=True)
    assert "路灯不亮找哪个部门？" in page and "预付卡商家关门跑路怎么维权？" not in page
    found = client.get("/help?q=电梯").get_data(as_text=True)
    assert "小区电梯频繁故障怎么办？" in found and "路灯不亮找哪个部门？" not in found
