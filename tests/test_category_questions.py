"""The category questions service (``cases.catalogue.questions``): which questions are
asked, how answers are checked and stored, how stored answers read."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import event

from cases.catalogue.models import Category, CategoryQuestion, QuestionType
from cases.catalogue.questions import (
    active_questions,
    answer_text,
    case_answers,
    questions_for,
    validate_answers,
)
from cases.models import Case, CaseAnswer
from portal.db import db
from portal.errors import DomainError
from portal.models import Role
from tests.factories import World, make_case, make_user

KINDS = [
    ("lamp", QuestionType.STRING, "灯杆编号", "Pole number", False, None),
    ("fault", QuestionType.SINGLE_CHOICE, "故障类型", "Fault", True, [
        {"key": "dark", "name_zh": "不亮", "name_en": "Not lit"},
        {"key": "flicker", "name_zh": "闪烁", "name_en": "Flickering"},
        {"key": "day", "name_zh": "白天亮", "name_en": "On by day"},
    ]),
    ("count", QuestionType.NUMBER, "数量", "", False, None),
    ("when", QuestionType.DATETIME, "发生时间", "When", False, None),
    ("times", QuestionType.MULTIPLE_CHOICE, "时段", "Times", False, [
        {"key": "am", "name_zh": "上午", "name_en": "Morning"},
        {"key": "pm", "name_zh": "下午", "name_en": "Afternoon"},
        {"key": "night", "name_zh": "夜间", "name_en": ""},
    ]),
    ("notes", QuestionType.TEXT, "补充", "Notes", False, None),
]


def add_questions(app: Flask, category_id: int) -> None:
    with app.app_context():
        for position, (code, kind, zh, en, required, choices) in enumerate(KINDS):
            db.session.add(CategoryQuestion(
                category_id=category_id, code=code, kind=kind, question_zh=zh, question_en=en,
                required=required, position=10 - position, choices=choices,
            ))
        db.session.add(CategoryQuestion(
            category_id=category_id, code="old", kind=QuestionType.STRING,
            question_zh="旧问题", required=True, position=99, is_active=False,
        ))
        db.session.commit()


@pytest.fixture
def asked(database: Flask, world: World) -> World:
    add_questions(database, world.noise.id)
    return world


def test_active_questions_ordered_by_position_without_inactive(database, asked):
    with database.app_context():
        codes = [q.code for q in active_questions(asked.noise.id)]
        assert codes == ["notes", "times", "when", "count", "fault", "lamp"]
        assert active_questions(asked.potholes.id) == []


def test_questions_for_is_one_query(database, asked):
    with database.app_context():
        statements: list[str] = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            found = questions_for([asked.noise.id, asked.potholes.id, asked.parent.id])
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        assert set(found) == {asked.noise.id}
        assert len(found[asked.noise.id]) == 6
        assert questions_for([]) == {}


def _validate(database, world, raw, locale="zh_CN"):
    with database.test_request_context(headers={"Accept-Language": locale}):
        category = db.session.get(Category, world.noise.id)
        answers = validate_answers(category, raw)
        codes = {q.id: q.code for q in active_questions(world.noise.id)}
        return {codes[qid]: value for qid, value in answers}


def test_validate_stores_values(database, asked):
    got = _validate(database, asked, {
        "lamp": "  A-12 ", "fault": "flicker", "count": "3.5", "when": "2026-05-01 08:30",
        "times": ["night", "am"], "notes": "", "old": "ignored", "unknown": "x",
    })
    assert got == {
        "lamp": "A-12", "fault": "flicker", "count": "3.5", "when": "2026-05-01T08:30",
        "times": "am,night",
    }
    assert _validate(database, asked, {"fault": "day", "times": "pm,am"})["times"] == "am,pm"
    assert _validate(database, asked, {"fault": ["dark"], "when": "2026-05-01T08:30:15Z"})[
        "when"] == "2026-05-01T08:30:15+00:00"


@pytest.mark.parametrize(("raw", "field", "words"), [
    ({}, "fault", "故障类型"),
    ({"fault": "  "}, "fault", "故障类型"),
    ({"fault": "broken"}, "fault", "故障类型"),
    ({"fault": ["dark", "day"]}, "fault", "故障类型"),
    ({"fault": "dark", "count": "three"}, "count", "数量"),
    ({"fault": "dark", "count": "NaN"}, "count", "数量"),
    ({"fault": "dark", "when": "yesterday"}, "when", "发生时间"),
    ({"fault": "dark", "times": ["am", "dawn"]}, "times", "时段"),
    ({"fault": "dark", "lamp": "x" * 301}, "lamp", "灯杆编号"),
])
def test_validate_refuses(database, asked, raw, field, words):
    with pytest.raises(DomainError) as refused:
        _validate(database, asked, raw)
    assert refused.value.field == field
    assert words in refused.value.message


def test_messages_in_english(database, asked):
    with pytest.raises(DomainError) as refused:
        _validate(database, asked, {"fault": "dark", "count": "x"}, locale="en")
    assert refused.value.message == "Give a number for “数量”."  # no English wording: zh
    with pytest.raises(DomainError) as refused:
        _validate(database, asked, {}, locale="en")
    assert "Fault" in refused.value.message


def test_answer_text_and_case_answers(database, asked):
    owner = make_user(database, Role.CITIZEN)
    case = make_case(database, owner, asked)
    with database.app_context():
        questions = {q.code: q for q in active_questions(asked.noise.id)}
        db.session.add_all([
            CaseAnswer(case_id=case.id, question_id=questions["fault"].id, value="dark"),
            CaseAnswer(case_id=case.id, question_id=questions["times"].id, value="am,night"),
            CaseAnswer(case_id=case.id, question_id=questions["lamp"].id, value="A-12"),
        ])
        db.session.commit()
        db.session.expunge_all()
        answers = {a.question.code: a for a in db.session.get(Case, case.id).answers}
        assert answer_text(answers["fault"], "en") == "Not lit"
        assert answer_text(answers["fault"], "zh_CN") == "不亮"
        assert answer_text(answers["times"], "en") == "Morning, 夜间"
        assert answer_text(answers["times"], "zh_CN") == "上午、夜间"
        assert answer_text(answers["lamp"], "en") == "A-12"
        db.session.expunge_all()
        statements: list[str] = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = case_answers(case.id, "en")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        assert rows == [("Times", "Morning, 夜间"), ("Fault", "Not lit"),
                        ("Pole number", "A-12")]
