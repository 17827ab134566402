"""Staff pages of the knowledge base: the list, writing, review and publishing; the figures."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from cases.catalogue.services import category_tree
from cases.knowledge import bp
from cases.knowledge.forms import AnswerForm, AnswerStepForm
from cases.knowledge.models import ANSWER_STATUSES, KnowledgeAnswer
from cases.knowledge.reading import Found, FoundPage, deflection_figures, find_answers
from cases.knowledge.services import (
    AnswerInput,
    ConcurrentEdit,
    can_read_knowledge,
    can_review_knowledge,
    can_write_knowledge,
    may_publish,
    may_send_for_review,
    may_unpublish,
    publish_answer,
    save_answer,
    send_for_review,
    status_label,
    unpublish_answer,
    viewer_answer_keys,
)
from portal.db import db, get_or_404
from portal.navigation import done
from portal.pagination import paginate
from portal.params import arg_text, page_arg
from portal.permissions import is_admin
from portal.transactions import form_errors
from search.engine.types import QuerySyntaxError

PER_PAGE = 20


def category_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("No category"))] + [
        SelectChoice(node.category.id, "\u2003" * node.depth + node.category.name)
        for node in category_tree()
    ]


@bp.route("/knowledge")
@login_required
def index():
    if not can_read_knowledge(current_user):
        abort(403)
    status = request.args.get("status") or None
    status = status if status in ANSWER_STATUSES else None
    q = " ".join(arg_text("q").split())[:200]
    page = page_arg()
    error = None
    if q:
        try:
            found = find_answers(q, viewer_answer_keys(current_user), status=status,
                                 page=page, per_page=PER_PAGE)
        except QuerySyntaxError as exc:
            found, error = FoundPage([], page, PER_PAGE, 0), exc.message
    else:
        stmt = select(KnowledgeAnswer).options(
            selectinload(KnowledgeAnswer.category), selectinload(KnowledgeAnswer.author)
        )
        if status:
            stmt = stmt.where(KnowledgeAnswer.status == status)
        rows = paginate(stmt.order_by(KnowledgeAnswer.updated_at.desc(), KnowledgeAnswer.id.desc()),
                        page, PER_PAGE)
        found = FoundPage([Found(a) for a in rows.items], rows.page, PER_PAGE, rows.total or 0)
    return render_template(
        "knowledge/index.html",
        found=found,
        q=q,
        status=status,
        statuses=[(s, status_label(s)) for s in ANSWER_STATUSES],
        status_label=status_label,
        error=error,
    ), 400 if error else 200


def answer_form(answer: KnowledgeAnswer | None) -> AnswerForm:
    form = AnswerForm(obj=answer)
    form.category.choices = category_choices()
    if answer is not None and not form.is_submitted():
        form.category.data = answer.category_id
        form.base_version.data = answer.version
    return form


def step_form(answer: KnowledgeAnswer) -> AnswerStepForm:
    form = AnswerStepForm()
    if not form.is_submitted():
        form.version.data = answer.version
    return form


def render_edit(answer: KnowledgeAnswer | None, form: AnswerForm, status: int = 200):
    return render_template(
        "knowledge/edit.html",
        answer=answer,
        form=form,
        step=step_form(answer) if answer is not None else None,
        status_label=status_label,
        may_send=answer is not None and may_send_for_review(current_user, answer),
        may_publish=answer is not None and may_publish(current_user, answer),
        may_unpublish=answer is not None and may_unpublish(current_user, answer),
    ), status


@bp.route("/knowledge/new", methods=["GET", "POST"])
@bp.route("/knowledge/<int:answer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(answer_id: int | None = None):
    if not can_write_knowledge(current_user):
        abort(403)
    answer = get_or_404(KnowledgeAnswer, answer_id) if answer_id else None
    form = answer_form(answer)
    valid = form.validate_on_submit()
    if valid and answer is not None and form.base_version.data is None:
        form.form_errors.append(_("The form has expired. Reload the page and try again."))
        valid = False
    if not valid:
        return render_edit(answer, form, 422 if form.is_submitted() else 200)
    data = AnswerInput(form.title.data, form.body.data, form.category.data)
    with form_errors(form, race=True) as outcome:
        saved = save_answer(current_user, answer, data, form.base_version.data)
    if outcome.refused:
        conflict = outcome.lost_race or isinstance(outcome.error, ConcurrentEdit)
        # What this writer typed stays in the form; the status shown is the answer's now.
        fresh = get_or_404(KnowledgeAnswer, answer_id) if answer_id else None
        return render_edit(fresh, form, 409 if conflict else 422)
    return done(_("Answer “%(title)s” saved.", title=saved.title), "knowledge.edit",
                answer_id=saved.id)


def take_step(answer_id: int, step, message: str, allowed=can_write_knowledge):
    """One button on an answer: the service decides; a stale version is a 409."""
    if not allowed(current_user):
        abort(403)
    answer = get_or_404(KnowledgeAnswer, answer_id)
    form = AnswerStepForm()
    if not form.validate_on_submit():
        return render_edit(answer, answer_form(answer), 422)
    with form_errors(race=True) as outcome:
        step(current_user, answer, form.version.data)
    if outcome.refused:
        fresh = get_or_404(KnowledgeAnswer, answer_id)
        edit_form = answer_form(fresh)
        edit_form.form_errors.append(outcome.error.message)
        return render_edit(fresh, edit_form, 409)
    return done(message, "knowledge.edit", answer_id=answer_id)


@bp.route("/knowledge/<int:answer_id>/review", methods=["POST"])
@login_required
def send_to_review(answer_id: int):
    return take_step(answer_id, send_for_review, _("The answer is waiting for review."))


@bp.route("/knowledge/<int:answer_id>/publish", methods=["POST"])
@login_required
def publish(answer_id: int):
    return take_step(answer_id, publish_answer, _("The answer is published on the help page."),
                     can_review_knowledge)


@bp.route("/knowledge/<int:answer_id>/unpublish", methods=["POST"])
@login_required
def unpublish(answer_id: int):
    return take_step(answer_id, unpublish_answer,
                     _("The answer is no longer on the help page."), can_review_knowledge)


@bp.route("/admin/help-figures")
@login_required
def figures():
    if not is_admin(current_user):
        abort(403)
    top = list(
        db.session.scalars(
            select(KnowledgeAnswer)
            .where(KnowledgeAnswer.status == "published")
            .order_by(KnowledgeAnswer.view_count.desc(), KnowledgeAnswer.id)
            .limit(20)
        )
    )
    figures = deflection_figures([a.id for a in top])
    return render_template("knowledge/figures.html", overall=figures[None], answers=top,
                           figures=figures)

