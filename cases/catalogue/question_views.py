"""Admin pages of a category's extra questions: list, add, edit (and deactivate), reorder.

Served under ``/admin/categories/<id>/questions`` by the ``catalogue`` blueprint; admins
only. The rules live in ``cases.catalogue.questions``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cases.catalogue import bp
from cases.catalogue.models import QUESTION_TYPE_LABELS, Category, CategoryQuestion
from cases.catalogue.question_forms import MoveForm, QuestionForm
from cases.catalogue.questions import (
    QuestionData,
    all_questions,
    choice_names,
    choices_lines,
    create_question,
    move_question,
    update_question,
)
from portal.admin.audit import add_action_label, add_field_label, record_action
from portal.admin.pages import form_values, save_form
from portal.db import db, get_or_404
from portal.models import Role
from portal.permissions import role_required

for _action, _label in (
    ("category_question.create", _l("Added a question to the category")),
    ("category_question.update", _l("Changed a question of the category")),
    ("category_question.move", _l("Reordered the category's questions")),
):
    add_action_label(_action, _label)
add_field_label("category_id", _l("Category"))

TEMPLATE = "cases/catalogue/question_form.html"


def question_or_404(category: Category, question_id: int) -> CategoryQuestion:
    """The question, when it belongs to ``category``; else 404."""
    question = db.session.get(CategoryQuestion, question_id)
    if question is None or question.category_id != category.id:
        abort(404)
    return question


def _recorded(action: str, question: CategoryQuestion) -> CategoryQuestion:
    record_action(action, question, {"code": question.code,
                                     "category_id": question.category_id},
                  target_type="category_question")
    return question


@bp.route("/categories/<int:category_id>/questions")
@role_required(Role.ADMIN)
def category_questions(category_id: int):
    category = get_or_404(Category, category_id)
    return render_template(
        "cases/catalogue/questions.html", category=category,
        questions=all_questions(category.id), labels=QUESTION_TYPE_LABELS,
        choice_names=choice_names, move_form=MoveForm(),
    )


@bp.route("/categories/<int:category_id>/questions/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_question(category_id: int):
    category = get_or_404(Category, category_id)
    form = QuestionForm()
    if not form.is_submitted():
        form.position.data = (max((q.position for q in all_questions(category.id)),
                                  default=0) + 10)
    return save_form(
        form,
        lambda: _recorded("category_question.create",
                          create_question(category, form_values(form, QuestionData))),
        lambda q: _("Question %(code)s added.", code=q.code),
        url_for("catalogue.category_questions", category_id=category.id),
        TEMPLATE, category=category, question=None,
    )


@bp.route("/categories/<int:category_id>/questions/<int:question_id>/edit",
          methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_question(category_id: int, question_id: int):
    category = get_or_404(Category, category_id)
    question = question_or_404(category, question_id)
    form = QuestionForm(obj=question)
    if not form.is_submitted():
        form.kind.data = question.kind.value
        form.choices.data = choices_lines(question)
    return save_form(
        form,
        lambda: _recorded("category_question.update",
                          update_question(question, form_values(form, QuestionData))),
        lambda q: _("Question %(code)s saved.", code=q.code),
        url_for("catalogue.category_questions", category_id=category.id),
        TEMPLATE, category=category, question=question,
    )


@bp.route("/categories/<int:category_id>/questions/<int:question_id>/move",
          methods=["POST"])
@role_required(Role.ADMIN)
def move_category_question(category_id: int, question_id: int):
    category = get_or_404(Category, category_id)
    question = question_or_404(category, question_id)
    direction = request.form.get("direction")
    if not MoveForm().validate_on_submit() or direction not in ("up", "down"):
        abort(400)
    move_question(question, -1 if direction == "up" else 1)
    _recorded("category_question.move", question)
    flash(_("Question %(code)s moved.", code=question.code), "success")
    return redirect(url_for("catalogue.category_questions", category_id=category.id))
