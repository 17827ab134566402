"""Forms of the category questions: the admin's form for one question, and the answer
fields the filing forms (citizen and clerk intake) add for the chosen category."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from cases.catalogue.models import QUESTION_TYPE_LABELS, CategoryQuestion, QuestionType
from cases.catalogue.questions import (
    active_questions,
    check_answers,
    choice_names,
    question_text,
)
from portal.admin.forms import CODE_PATTERN, lower, position_field, strip
from portal.forms import PortalForm
from portal.params import arg_int, parse_int


class QuestionForm(PortalForm):
    code = StringField(
        _l("Code"),
        filters=[lower],
        validators=[
            DataRequired(message=_l("Give a code.")),
            Length(max=40, message=_l("A code has at most 40 characters.")),
            Regexp(CODE_PATTERN, message=_l(
                "Use lower-case letters and digits, joined by dots, dashes or underscores.")),
        ],
    )
    kind = SelectField(
        _l("Kind of answer"),
        choices=[SelectChoice(k.value, QUESTION_TYPE_LABELS[k]) for k in QuestionType],
        validators=[DataRequired(message=_l("Choose a kind of question."))],
    )
    question_zh = StringField(
        _l("Question (Chinese)"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give the question in Chinese.")),
            Length(max=300, message=_l("At most %(max)d characters.", max=300)),
        ],
    )
    question_en = StringField(
        _l("Question (English)"),
        filters=[strip],
        validators=[Optional(), Length(max=300, message=_l("At most %(max)d characters.",
                                                            max=300))],
    )
    choices = TextAreaField(
        _l("Choices"),
        validators=[Optional(), Length(max=20000, message=_l("At most %(max)d characters.",
                                                              max=20000))],
    )
    required = BooleanField(_l("An answer is required"))
    position = position_field()
    is_active = BooleanField(_l("Active (asked when a case is filed)"), default=True)


class MoveForm(PortalForm):
    """The up and down buttons of the question list (CSRF only; the button says where)."""


# --- the questions on the filing forms (citizen and clerk intake) --------------------------

ANSWER_PREFIX = "answer-"
SHOWN_FIELD = "questions_shown"


@dataclass
class AnswerFields:
    """The chosen category's questions on a filing form: what was typed, what was refused.

    The answers are plain request fields (``answer-<code>``; several checkboxes share a
    name); ``questions_shown`` says for which category the page last showed questions, so a
    category changed without script comes back with its questions and ``notice`` instead
    of being filed unanswered.
    """

    category_id: int | None
    questions: list[CategoryQuestion] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None

    @property
    def waiting(self) -> bool:
        """True when the page must be shown again for the questions before filing."""
        return self.notice is not None

    def name(self, question: CategoryQuestion) -> str:
        return ANSWER_PREFIX + question.code

    def label(self, question: CategoryQuestion) -> str:
        return question_text(question)

    def choices(self, question: CategoryQuestion) -> list[tuple[str, str]]:
        return choice_names(question)

    def value(self, question: CategoryQuestion) -> str:
        return (self.values.get(question.code) or [""])[0]

    def check(self) -> tuple[tuple[int, str], ...] | None:
        """The answers for ``CaseRequest.answers``, or None with ``errors`` filled in."""
        answers, refusals = check_answers(self.questions, self.values)
        self.errors = {r.field or "": r.message for r in refusals}
        return None if refusals else answers


def chosen_category(form: FlaskForm) -> int | None:
    """The category the filing form has chosen (posted, or ``?category=`` on a first
    visit, which then selects it), if it is among the form's choices."""
    offered = {choice.value for choice in form.category.choices if choice.value != ""}
    if form.is_submitted():
        chosen = form.category.data
    else:
        chosen = arg_int("category")
        if chosen in offered:
            form.category.data = chosen
    return chosen if chosen in offered else None


def filing_answers(form: FlaskForm) -> AnswerFields:
    """The answer fields of a filing form, read from the request when it was posted."""
    category_id = chosen_category(form)
    fields = AnswerFields(category_id, active_questions(category_id) if category_id else [])
    if not form.is_submitted():
        return fields
    fields.values = {
        q.code: request.form.getlist(ANSWER_PREFIX + q.code) for q in fields.questions
    }
    if fields.questions and parse_int(request.form.get(SHOWN_FIELD)) != category_id:
        fields.notice = _(
            "The category you chose asks a few more questions. Answer them below, "
            "then send the form again."
        )
    return fields
