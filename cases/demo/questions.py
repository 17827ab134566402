"""The demo city's extra questions per category (the web forms ask them, Open311 publishes
them as service definitions) and what the service list says of a few leaves."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from cases.catalogue.models import Category, CategoryQuestion, QuestionType
from cases.demo.history import ZONE
from cases.models import Case, CaseAnswer
from portal.db import db

# (code, kind, question zh, question en, required, choices as (key, zh, en))
Question = tuple[str, QuestionType, str, str, bool, tuple[tuple[str, str, str], ...]]

TIMES = (("morning", "早上（6-12 点）", "Morning (6-12)"),
         ("afternoon", "下午（12-18 点）", "Afternoon (12-18)"),
         ("evening", "晚上（18-22 点）", "Evening (18-22)"),
         ("night", "夜间（22 点至次日 6 点）", "Night (22-6)"))

QUESTIONS: dict[str, tuple[Question, ...]] = {
    "roads.lights": (
        ("pole_number", QuestionType.STRING, "灯杆编号", "Pole number", False, ()),
        ("fault", QuestionType.SINGLE_CHOICE, "故障类型", "Kind of fault", True, (
            ("dark", "不亮", "Not lit"), ("flicker", "闪烁", "Flickering"),
            ("daytime", "白天亮", "On in daytime"))),
        ("lamp_count", QuestionType.NUMBER, "涉及几盏灯", "How many lamps", False, ()),
    ),
    "noise.construction": (
        ("period", QuestionType.MULTIPLE_CHOICE, "发生时段", "When it happens", True, TIMES),
        ("site_name", QuestionType.STRING, "工地或项目名称", "Site or project name", False, ()),
    ),
    "noise.business": (
        ("period", QuestionType.MULTIPLE_CHOICE, "发生时段", "When it happens", False, TIMES),
    ),
    "noise.neighbourhood": (
        ("period", QuestionType.SINGLE_CHOICE, "发生时段", "When it happens", True, TIMES),
    ),
    "housing.lifts": (
        ("trapped", QuestionType.SINGLE_CHOICE, "是否有人被困", "Is anyone trapped", True, (
            ("yes", "有人被困", "Someone is trapped"), ("no", "无人被困", "Nobody is trapped"))),
        ("since", QuestionType.DATETIME, "故障开始时间", "Out of order since", False, ()),
    ),
    "traffic.parking": (
        ("plate", QuestionType.STRING, "车牌号", "Number plate", False, ()),
    ),
}

# What the service list says of a leaf: (description zh, description en, keywords).
DESCRIPTIONS: dict[str, tuple[str, str, str]] = {
    "roads.lights": ("城市道路路灯不亮、闪烁或白天亮灯（小区内部路灯请找物业）。",
                     "Street lights on city roads that are out, flicker or burn by day.",
                     "路灯,灯杆,不亮,street light,lamp"),
    "noise.construction": ("工地施工噪声，尤其是夜间 22 点至次日 6 点的施工。",
                           "Noise from building sites, above all at night (22-6).",
                           "工地,施工,夜间施工,噪音,construction,noise"),
    "housing.lifts": ("住宅电梯故障、困人或长期停运。",
                      "Lifts in housing estates that are broken, trap people or stand still.",
                      "电梯,困人,停运,lift,elevator"),
}


def load_questions(leaves: dict[str, Category]) -> None:
    """Give the demo leaves (code → category) their questions and service-list texts."""
    for code, questions in QUESTIONS.items():
        category = leaves[code]
        for position, (qcode, kind, zh, en, required, choices) in enumerate(questions):
            db.session.add(CategoryQuestion(
                category=category, code=qcode, kind=kind, question_zh=zh, question_en=en,
                required=required, position=(position + 1) * 10,
                choices=[{"key": k, "name_zh": z, "name_en": e} for k, z, e in choices] or None,
            ))
    for code, (description_zh, description_en, keywords) in DESCRIPTIONS.items():
        category = leaves[code]
        category.description_zh, category.description_en = description_zh, description_en
        category.keywords = keywords


def answer_demo_cases(rng: random.Random) -> None:
    """Answers for the demo cases filed under categories that ask questions (the history
    builds its cases directly, without the filing form that would have asked them)."""
    questions: dict[int, list[CategoryQuestion]] = {}
    for question in db.session.scalars(select(CategoryQuestion)):
        questions.setdefault(question.category_id, []).append(question)
    cases = db.session.execute(
        select(Case.id, Case.category_id, Case.created_at)
        .where(Case.category_id.in_(questions)).order_by(Case.id)
    )
    for case_id, category_id, created_at in cases:
        for question in questions[category_id]:
            if question.required or rng.random() < 0.5:
                value = _demo_value(question, rng, created_at)
                db.session.add(CaseAnswer(case_id=case_id, question_id=question.id, value=value))


def _demo_value(question: CategoryQuestion, rng: random.Random, filed: datetime) -> str:
    keys = [c["key"] for c in question.choices or []]
    if question.kind == QuestionType.SINGLE_CHOICE:
        return rng.choice(keys)
    if question.kind == QuestionType.MULTIPLE_CHOICE:
        return ",".join(k for k in keys if k in rng.sample(keys, rng.randint(1, 2)))
    if question.kind == QuestionType.NUMBER:
        return str(rng.randint(1, 6))
    if question.kind == QuestionType.DATETIME:
        since = filed - timedelta(hours=rng.randint(2, 48))
        return since.astimezone(ZONE).replace(tzinfo=None).isoformat(timespec="minutes")
    if question.code == "plate":
        return f"闽A{rng.randint(10000, 99999)}"
    if question.code == "pole_number":
        return f"LD-{rng.randint(100, 9999):04d}"
    return rng.choice(("城东商业中心项目", "地铁 4 号线站点工地", "滨江花园二期"))
