"""Open311 services: each active leaf of the category tree, and its definition (the
category's extra questions), in the language the client asks for.

The language: the ``locale`` parameter (``en``, ``zh_CN``, ``zh-CN``...), else the
request's ``Accept-Language``, else the portal's default (Chinese). English falls back to
the Chinese text where a category or question has no English yet.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cases.catalogue.questions import choice_names, question_text, questions_for
from cases.models import Category, CategoryQuestion, QuestionType
from cases.services.catalogue import leaf_categories
from portal.db import db

DATATYPE_HINTS = {
    QuestionType.STRING: _l("A short text."),
    QuestionType.NUMBER: _l("A number, such as 12 or 3.5."),
    QuestionType.DATETIME: _l("A date and time in ISO 8601, such as 2026-05-01T08:30."),
    QuestionType.TEXT: _l("A longer text."),
    QuestionType.SINGLE_CHOICE: _l("One key from the values."),
    QuestionType.MULTIPLE_CHOICE: _l("One or more keys from the values (repeat the "
                                     "attribute as attribute[code][])."),
}


def request_locale() -> str:
    """``en`` or ``zh_CN``: the ``locale`` parameter, else ``Accept-Language``."""
    asked = (request.values.get("locale") or "").strip().replace("-", "_").lower()
    if asked:
        return "en" if asked.startswith("en") else "zh_CN"
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best == "en":
        return "en"
    if best in ("zh-CN", "zh"):
        return "zh_CN"
    return "en" if current_app.config["BABEL_DEFAULT_LOCALE"].startswith("en") else "zh_CN"


def localised(zh: str | None, en: str | None, locale: str) -> str:
    return (en or zh or "") if locale == "en" else (zh or en or "")


def category_name(category: Category, locale: str) -> str:
    return localised(category.name_zh, category.name_en, locale)


def service(category: Category, has_questions: bool, locale: str) -> dict:
    """One entry of the service list."""
    description = localised(category.description_zh, category.description_en, locale)
    return {
        "service_code": category.code,
        "service_name": category_name(category, locale),
        "description": description or None,
        "metadata": has_questions,
        "type": "realtime",
        "keywords": (category.keywords or "").strip() or None,
        "group": category_name(category.parent, locale) if category.parent else None,
    }


def service_list(locale: str) -> list[dict]:
    """Every active leaf category as a service (two queries: the leaves, their questions)."""
    leaves = leaf_categories()
    asked = questions_for(c.id for c in leaves)
    return [service(c, bool(asked.get(c.id)), locale) for c in leaves]


def leaf_by_code(code: str) -> Category | None:
    """The active leaf category with this service code, or None."""
    if not code or len(code) > 40:
        return None
    category = db.session.scalar(select(Category).where(Category.code == code))
    if category is None or not category.is_active:
        return None
    child = db.session.scalar(
        select(Category.id).where(Category.parent_id == category.id,
                                  Category.is_active.is_(True)).limit(1)
    )
    return None if child is not None else category


def attribute(question: CategoryQuestion, order: int, locale: str) -> dict:
    """A question as a service definition's attribute."""
    entry = {
        "variable": True,
        "code": question.code,
        "datatype": question.kind.value,
        "required": bool(question.required),
        "datatype_description": str(DATATYPE_HINTS[question.kind]),
        "order": order,
        "description": question_text(question, locale),
    }
    if question.kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        entry["values"] = [{"key": key, "name": name}
                           for key, name in choice_names(question, locale)]
    return entry


def service_definition(category: Category, locale: str) -> dict:
    """The service definition: the category's active questions, in the order asked."""
    questions = questions_for([category.id]).get(category.id, [])
    with force_locale(locale):
        attributes = [attribute(q, n, locale) for n, q in enumerate(questions, start=1)]
    return {"service_code": category.code, "attributes": attributes}
