"""A category's extra questions (``CategoryQuestion``): which are asked, how answers are
checked and stored, how a stored answer reads.

The web filing forms (citizen and clerk), Open311's service definitions and posted
``attribute[...]`` values all go through here. Answers are stored as text in
``CaseAnswer.value``: a number as typed (trimmed), a date and time in ISO 8601, a choice as
its key, several choices as their keys joined by ",".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from cases.catalogue.models import Category, CategoryQuestion, QuestionType
from cases.models import CaseAnswer
from portal.db import db
from portal.errors import DomainError
from portal.i18n import current_language
from portal.params import clean_text

log = logging.getLogger(__name__)

CHOICE_KINDS = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})
# The longest answer kept, by kind (the column is TEXT; these keep answers readable).
MAX_LENGTH = {QuestionType.TEXT: 4000}
DEFAULT_MAX_LENGTH = 300


def active_questions(category_id: int) -> list[CategoryQuestion]:
    """The category's active questions, in the order they are asked."""
    return questions_for([category_id]).get(category_id, [])


def questions_for(category_ids: Iterable[int]) -> dict[int, list[CategoryQuestion]]:
    """Active questions of several categories in one query: category id → ordered list."""
    ids = {int(i) for i in category_ids}
    if not ids:
        return {}
    rows = db.session.scalars(
        select(CategoryQuestion)
        .where(CategoryQuestion.category_id.in_(ids), CategoryQuestion.is_active)
        .order_by(
            CategoryQuestion.category_id, CategoryQuestion.position, CategoryQuestion.id
        )
    )
    found: dict[int, list[CategoryQuestion]] = {}
    for question in rows:
        found.setdefault(question.category_id, []).append(question)
    return found


def localised(zh: str, en: str, locale: str | None = None) -> str:
    """The English text when the reader reads English and there is one, else the Chinese."""
    locale = locale or current_language()
    return en if locale.startswith("en") and en else zh


def question_text(question: CategoryQuestion, locale: str | None = None) -> str:
    """The question as worded in ``locale`` (the page's language by default)."""
    return localised(question.question_zh, question.question_en, locale)


def choice_names(question: CategoryQuestion, locale: str | None = None) -> list[tuple[str, str]]:
    """``(key, name)`` of a list question's choices, in order, worded in ``locale``."""
    return [
        (str(c.get("key", "")), localised(c.get("name_zh", ""), c.get("name_en", ""), locale))
        for c in question.choices or []
    ]


def validate_answers(
    category: Category, raw: Mapping[str, str | Sequence[str]]
) -> tuple[tuple[int, str], ...]:
    """Check ``raw`` (question code → value or values as typed) against the category's
    active questions; returns ``(question id, stored value)`` for ``CaseRequest.answers``.

    Raises ``DomainError(message, field=code)`` on the first bad answer: a required one
    missing, a number that is not one, a date and time that is not ISO 8601, a key that is
    not among the choices. Codes the category does not ask are ignored; empty optional
    answers are left out.
    """
    answers, errors = check_answers(active_questions(category.id), raw)
    if errors:
        raise errors[0]
    return answers


def check_answers(
    questions: Sequence[CategoryQuestion], raw: Mapping[str, str | Sequence[str]]
) -> tuple[tuple[tuple[int, str], ...], list[DomainError]]:
    """Like ``validate_answers`` for the given questions, but every refusal is returned
    (one per question, in order) so a form can mark each field."""
    answers: list[tuple[int, str]] = []
    errors: list[DomainError] = []
    for question in questions:
        values = _values(raw.get(question.code))
        try:
            if not values:
                if question.required:
                    raise DomainError(
                        _("Answer “%(question)s”.", question=question_text(question)),
                        field=question.code,
                    )
                continue
            answers.append((question.id, _stored(question, values)))
        except DomainError as refused:
            errors.append(refused)
    return tuple(answers), errors


def _values(value: str | Sequence[str] | None) -> list[str]:
    """The non-empty values given, trimmed and without control characters."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        text = clean_text(str(item) if item is not None else "").strip()
        if text:
            out.append(text)
    return out


def _stored(question: CategoryQuestion, values: list[str]) -> str:
    """The value to store for a non-empty answer, or a ``DomainError`` naming the field."""
    kind = question.kind
    label = question_text(question)
    if kind == QuestionType.MULTIPLE_CHOICE:
        keys: list[str] = []
        for value in values:
            keys.extend(k.strip() for k in value.split(",") if k.strip())
        known = [key for key, _name in choice_names(question)]
        bad = [k for k in keys if k not in known]
        if bad:
            raise DomainError(_("Choose from the list for “%(question)s”.", question=label),
                              field=question.code)
        return ",".join(k for k in known if k in keys)
    if len(values) > 1:
        raise DomainError(_("Give one answer to “%(question)s”.", question=label),
                          field=question.code)
    value = values[0]
    if kind == QuestionType.SINGLE_CHOICE:
        if value not in {key for key, _name in choice_names(question)}:
            raise DomainError(_("Choose from the list for “%(question)s”.", question=label),
                              field=question.code)
        return value
    if kind == QuestionType.NUMBER:
        return _number(value, question, label)
    if kind == QuestionType.DATETIME:
        return _datetime(value, question, label)
    limit = MAX_LENGTH.get(kind, DEFAULT_MAX_LENGTH)
    if len(value) > limit:
        raise DomainError(
            _("The answer to “%(question)s” is too long (at most %(count)d characters).",
              question=label, count=limit),
            field=question.code,
        )
    return value


def _number(value: str, question: CategoryQuestion, label: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or len(value) > 40:
        raise DomainError(_("Give a number for “%(question)s”.", question=label),
                          field=question.code)
    return value


def _datetime(value: str, question: CategoryQuestion, label: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        moment = None
    if moment is None or len(value) > 40:
        raise DomainError(
            _("Give a date and time for “%(question)s”, such as 2026-05-01T08:30.",
              question=label),
            field=question.code,
        )
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def answer_text(answer: CaseAnswer, locale: str) -> str:
    """A stored answer as the reader reads it: choice keys shown as their names."""
    question = answer.question
    if question.kind not in CHOICE_KINDS:
        return answer.value
    names = dict(choice_names(question, locale))
    keys = [k for k in answer.value.split(",") if k]
    separator = ", " if locale.startswith("en") else "、"
    return separator.join(names.get(k, k) for k in keys)


# Built once: every case page asks it (a kept statement keeps its SQLAlchemy cache key).
_CASE_ANSWERS = (
    select(CaseAnswer, CategoryQuestion)
    .join(CategoryQuestion, CaseAnswer.question_id == CategoryQuestion.id)
    .where(CaseAnswer.case_id == bindparam("case_id"))
    .order_by(CategoryQuestion.position, CategoryQuestion.id)
)


def case_answers(case_id: int, locale: str | None = None) -> list[tuple[str, str]]:
    """``(question, answer)`` texts of one case, in the questions' order — one query."""
    locale = locale or current_language()
    rows = db.session.execute(_CASE_ANSWERS, {"case_id": case_id}).all()
    return [(question_text(q, locale), answer_text(a, locale)) for a, q in rows]


# --- keeping the questions (admin pages: ``cases.catalogue.question_views``) --------------

CODE_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
MAX_CHOICES = 100


@dataclass(frozen=True)
class QuestionData:
    """What the admin's form gives for one question; ``choices`` as ``key|名称|name`` lines."""

    code: str
    kind: str
    question_zh: str
    question_en: str = ""
    required: bool = False
    position: int = 0
    is_active: bool = True
    choices: str = ""


def all_questions(category_id: int) -> list[CategoryQuestion]:
    """Every question of the category, inactive ones too, in the order they are asked."""
    return list(db.session.scalars(
        select(CategoryQuestion)
        .where(CategoryQuestion.category_id == category_id)
        .order_by(CategoryQuestion.position, CategoryQuestion.id)
    ))


def choices_lines(question: CategoryQuestion | None) -> str:
    """A question's choices as the lines the admin edits."""
    if question is None:
        return ""
    return "\n".join(
        "|".join([c.get("key", ""), c.get("name_zh", ""), c.get("name_en", "")]).rstrip("|")
        for c in question.choices or []
    )


def parse_choices(text: str) -> list[dict[str, str]]:
    """``key|名称|name`` lines (English optional, blank lines skipped) as stored choices."""
    choices: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(clean_text(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        key = parts[0].lower()
        name_zh = parts[1] if len(parts) > 1 else ""
        name_en = parts[2] if len(parts) > 2 else ""
        if len(parts) > 3 or not CODE_RE.match(key) or len(key) > 40 or not name_zh:
            raise DomainError(
                _("Line %(number)d: write key|名称|name, the key in lower-case letters and "
                  "digits.", number=number), field="choices")
        if len(name_zh) > 100 or len(name_en) > 150:
            raise DomainError(_("Line %(number)d: the name is too long.", number=number),
                              field="choices")
        if key in seen:
            raise DomainError(_("Line %(number)d: the key %(key)s is there twice.",
                                number=number, key=key), field="choices")
        seen.add(key)
        choices.append({"key": key, "name_zh": name_zh, "name_en": name_en})
    if len(choices) > MAX_CHOICES:
        raise DomainError(_("At most %(count)d choices.", count=MAX_CHOICES), field="choices")
    return choices


def create_question(category: Category, data: QuestionData) -> CategoryQuestion:
    """A new question of ``category`` (flushed)."""
    question = CategoryQuestion(category_id=category.id)
    _apply_question(question, data)
    db.session.add(question)
    db.session.flush()
    log.info("admin: question %s of category %s created", question.code, category.code)
    return question


def update_question(question: CategoryQuestion, data: QuestionData) -> CategoryQuestion:
    """The question changed as the form says (flushed); its stored answers stay."""
    _apply_question(question, data)
    db.session.flush()
    log.info("admin: question %s (%s) updated", question.id, question.code)
    return question


def _apply_question(question: CategoryQuestion, data: QuestionData) -> None:
    code = (data.code or "").strip().lower()
    if not CODE_RE.match(code) or len(code) > 40:
        raise DomainError(_("Use lower-case letters and digits, joined by dots, dashes or "
                            "underscores."), field="code")
    taken = select(CategoryQuestion.id).where(
        CategoryQuestion.category_id == question.category_id, CategoryQuestion.code == code)
    if question.id is not None:
        taken = taken.where(CategoryQuestion.id != question.id)
    if db.session.scalar(taken.limit(1)) is not None:
        raise DomainError(_("The code %(code)s is already taken.", code=code), field="code")
    try:
        kind = QuestionType(data.kind)
    except ValueError:
        raise DomainError(_("Choose a kind of question."), field="kind") from None
    question_zh = clean_text(data.question_zh or "").strip()
    if not question_zh:
        raise DomainError(_("Give the question in Chinese."), field="question_zh")
    choices = parse_choices(data.choices) if kind in CHOICE_KINDS else None
    if kind in CHOICE_KINDS and not choices:
        raise DomainError(_("Give at least one choice."), field="choices")
    question.code, question.kind, question.choices = code, kind, choices
    question.question_zh = question_zh[:300]
    question.question_en = clean_text(data.question_en or "").strip()[:300]
    question.required = bool(data.required)
    question.position = data.position
    question.is_active = bool(data.is_active)


def move_question(question: CategoryQuestion, step: int) -> None:
    """Move the question one place up (``-1``) or down (``1``); renumbers positions 10, 20…"""
    questions = all_questions(question.category_id)
    index = questions.index(question)
    target = index + (-1 if step < 0 else 1)
    if 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
    for number, row in enumerate(questions, start=1):
        row.position = number * 10
    db.session.flush()
