"""Category questions through HTTP: the admin keeps them, the filing forms (citizen and
clerk intake) ask them, the case page shows the answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.catalogue.models import Category, CategoryQuestion, QuestionType
from cases.models import Case, CaseAnswer
from portal.db import db
from portal.models import Role
from tests.conftest import submit
from tests.test_admin import in_english
from tests.test_cases import filing_data
from tests.test_intake import intake_data

FAULTS = "dark|不亮|Not lit\nflicker|闪烁|Flickering\n\nday|白天亮"


def questions_url(world) -> str:
    return f"/admin/categories/{world.noise.id}/questions"


def question_data(**overrides) -> dict:
    data = {"code": "fault", "kind": "singlevaluelist", "question_zh": "故障类型",
            "question_en": "Kind of fault", "choices": FAULTS, "required": "y",
            "position": "10", "is_active": "y"}
    data.update(overrides)
    return data


def stored_questions(app, category_id: int) -> list[CategoryQuestion]:
    with app.app_context():
        rows = db.session.scalars(
            select(CategoryQuestion).where(CategoryQuestion.category_id == category_id)
            .order_by(CategoryQuestion.position, CategoryQuestion.id)).all()
        db.session.expunge_all()
        return list(rows)


def add_questions(app, world) -> None:
    with app.app_context():
        db.session.add_all([
            CategoryQuestion(category_id=world.noise.id, code="fault",
                             kind=QuestionType.SINGLE_CHOICE, question_zh="故障类型",
                             question_en="Kind of fault", required=True, position=1, choices=[
                                 {"key": "dark", "name_zh": "不亮", "name_en": "Not lit"},
                                 {"key": "day", "name_zh": "白天亮", "name_en": "On by day"}]),
            CategoryQuestion(category_id=world.noise.id, code="pole",
                             kind=QuestionType.STRING, question_zh="灯杆编号", position=2),
            CategoryQuestion(category_id=world.noise.id, code="count",
                             kind=QuestionType.NUMBER, question_zh="数量", position=3),
        ])
        db.session.commit()


# --- the admin's pages --------------------------------------------------------------------


def test_admin_adds_edits_reorders_and_deactivates_questions(client, login_as, world, database):
    login_as(Role.ADMIN)
    page = client.get(f"/admin/categories/{world.noise.id}/edit").get_data(as_text=True)
    assert questions_url(world) in page  # reachable from the category's page
    assert client.get(questions_url(world)).status_code == 200
    new = f"{questions_url(world)}/new"
    response = submit(client, new, question_data())
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    response = submit(client, new, question_data(
        code="pole", kind="string", question_zh="灯杆编号", question_en="", choices="x|y",
        required="", position="20"))
    assert response.status_code == 302
    fault, pole = stored_questions(database, world.noise.id)
    assert fault.choices == [
        {"key": "dark", "name_zh": "不亮", "name_en": "Not lit"},
        {"key": "flicker", "name_zh": "闪烁", "name_en": "Flickering"},
        {"key": "day", "name_zh": "白天亮", "name_en": ""},
    ]
    assert fault.required and pole.choices is None and not pole.required
    listing = client.get(questions_url(world)).get_data(as_text=True)
    assert "故障类型" in listing and "闪烁" in listing and "灯杆编号" in listing
    edit = f"{questions_url(world)}/{fault.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert "flicker|闪烁|Flickering" in form
    # Move the pole number up: it comes first, positions renumbered.
    response = submit(client, questions_url(world), {"direction": "up"},
                      action=f"{questions_url(world)}/{pole.id}/move")
    assert response.status_code == 302
    assert [q.code for q in stored_questions(database, world.noise.id)] == ["pole", "fault"]
    # Deactivate (the box unticked) and change the wording.
    response = submit(client, edit,
                      question_data(question_zh="灯的故障", is_active="", position="20"))
    assert response.status_code == 302
    fault = stored_questions(database, world.noise.id)[1]
    assert fault.question_zh == "灯的故障" and not fault.is_active
    activity = client.get("/admin/activity")
    assert activity.status_code == 200 and "fault" in activity.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    (question_data(choices=""), "at least one choice"),
    (question_data(choices="dark|不亮\ndark|又不亮"), "Line 2"),
    (question_data(choices="Dark Key|不亮"), "Line 1"),
    (question_data(code="Bad Code!"), "lower-case"),
    (question_data(kind="colour"), None),
    (question_data(question_zh=""), "Chinese"),
    (question_data(position="-1"), None),
])
def test_bad_question_input_is_422_with_a_message(client, login_as, world, data, message):
    login_as(Role.ADMIN)
    in_english(client)
    response = submit(client, f"{questions_url(world)}/new", data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'class="errors"' in body or "alert--error" in body
    if message:
        assert message in body, body[-3000:]


def test_duplicate_code_and_foreign_question(client, login_as, world, database):
    add_questions(database, world)
    login_as(Role.ADMIN)
    response = submit(client, f"{questions_url(world)}/new", question_data())
    assert response.status_code == 422
    fault = stored_questions(database, world.noise.id)[0]
    other = f"/admin/categories/{world.potholes.id}/questions/{fault.id}/edit"
    assert client.get(other).status_code == 404
    assert client.get("/admin/categories/999999/questions").status_code == 404
    response = submit(client, questions_url(world), {"direction": "sideways"},
                      action=f"{questions_url(world)}/{fault.id}/move")
    assert response.status_code == 400
    # Without the CSRF token nothing moves or saves.
    move = f"{questions_url(world)}/{fault.id}/move"
    assert client.post(move, data={"direction": "down"}).status_code == 400
    assert client.post(f"{questions_url(world)}/new", data=question_data()).status_code == 400


def test_only_admins_keep_questions(client, login_as, world):
    login_as(Role.SUPERVISOR)
    assert client.get(questions_url(world)).status_code == 403
    assert client.get(f"{questions_url(world)}/new").status_code == 403


def test_category_form_keeps_keywords_and_descriptions(client, login_as, world, database):
    login_as(Role.ADMIN)
    url = f"/admin/categories/{world.potholes.id}/edit"
    response = submit(client, url, {
        "parent_id": str(world.parent.id), "code": "roads.potholes", "name_zh": "道路破损",
        "name_en": "Potholes", "department_id": str(world.transport.id), "position": "0",
        "is_active": "y", "sign_amount": "4", "sign_unit": "hours", "reply_amount": "10",
        "reply_unit": "days", "keywords": "坑洞, 路面", "description_zh": "路面坑洞、破损",
        "description_en": "Holes in the road",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with database.app_context():
        row = db.session.get(Category, world.potholes.id)
        assert (row.keywords, row.description_zh, row.description_en) == (
            "坑洞, 路面", "路面坑洞、破损", "Holes in the road")
    response = submit(client, url, {"code": "roads.potholes", "keywords": "x" * 501})
    assert response.status_code == 422


# --- filing with answers ------------------------------------------------------------------


def test_citizen_files_with_answers_and_reads_them(client, login_as, world, database):
    add_questions(database, world)
    login_as(Role.CITIZEN)
    page = client.get(f"/requests/new?category={world.noise.id}").get_data(as_text=True)
    assert 'name="answer-fault"' in page and "白天亮" in page and "灯杆编号" in page
    assert "category-questions.js" in page
    response = submit(client, "/requests/new", filing_data(
        world, **{"answer-fault": "day", "answer-pole": "LD-0815", "answer-count": "2",
                  "questions_shown": str(world.noise.id)}))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    number = response.headers["Location"].rsplit("/", 1)[-1]
    with database.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        values = sorted(db.session.scalars(
            select(CaseAnswer.value).where(CaseAnswer.case_id == case.id)))
        assert values == ["2", "LD-0815", "day"]
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "故障类型" in page and "白天亮" in page and "LD-0815" in page
    login_as(Role.CLERK)
    in_english(client)
    staff_page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "Kind of fault" in staff_page and "On by day" in staff_page
    assert "灯杆编号" in staff_page and "LD-0815" in staff_page  # no English wording: zh


def test_missing_required_answer_is_422_and_keeps_what_was_typed(client, login_as, world,
                                                                   database):
    add_questions(database, world)
    login_as(Role.CITIZEN)
    in_english(client)
    response = submit(client, "/requests/new", filing_data(
        world, **{"answer-pole": "LD-0815", "answer-count": "zwei",
                  "questions_shown": str(world.noise.id)}))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Answer “Kind of fault”." in body
    assert "Give a number for “数量”." in body
    assert 'value="zwei"' in body and 'value="LD-0815"' in body
    assert "五一路夜间施工噪音扰民" in body  # the title typed stays
    with database.app_context():
        assert db.session.scalar(select(Case.id)) is None


def test_category_changed_without_script_asks_the_questions_first(client, login_as, world,
                                                                   database):
    add_questions(database, world)
    login_as(Role.CITIZEN)
    response = submit(client, "/requests/new", filing_data(world, questions_shown=""))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'name="answer-fault"' in body and "五一路夜间施工噪音扰民" in body
    assert 'role="status"' in body and f'name="questions_shown" value="{world.noise.id}"' in body
    with database.app_context():
        assert db.session.scalar(select(Case.id)) is None
    # A category without questions files straight away.
    response = submit(client, "/requests/new", filing_data(
        world, category=str(world.potholes.id), questions_shown=""))
    assert response.status_code == 302


def test_clerk_intake_asks_the_questions(client, login_as, world, database):
    add_questions(database, world)
    login_as(Role.CLERK)
    page = client.get(f"/intake/new?category={world.noise.id}").get_data(as_text=True)
    assert 'name="answer-fault"' in page
    data = intake_data(world, new_kind="citizen", new_name="赵老伯", new_phone="13600001111",
                       questions_shown=str(world.noise.id))
    response = submit(client, "/intake/new", {**data, "answer-fault": "broken"})
    assert response.status_code == 422
    assert 'value="赵老伯"' in response.get_data(as_text=True)
    response = submit(client, "/intake/new", {**data, "answer-fault": "dark"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    number = response.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "故障类型" in page and "不亮" in page
