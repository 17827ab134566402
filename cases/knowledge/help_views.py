"""The public help pages: ``/help`` (search with ``q``, narrow to one ``category``, with
the published answers counted per category), one answer, its vote, suggestions.

Only published answers exist here, for everyone (staff preview drafts on their own
pages): an answer in any other state is a 404. The searches go through ``search`` with
the public access key only.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.knowledge import bp
from cases.knowledge.forms import FeedbackForm
from cases.knowledge.models import KnowledgeAnswer
from cases.knowledge.reading import (
    Found,
    FoundPage,
    categories_with_counts,
    find_answers,
    has_voted,
    published_answer,
    published_per_category,
    record_feedback,
    record_view,
    suggestions,
)
from cases.knowledge.services import PUBLIC_KEY
from portal.pagination import paginate
from portal.params import arg_int, arg_text, page_arg
from portal.permissions import can_file_case
from search.engine.types import QuerySyntaxError

PER_PAGE = 10
FROM_FILING = "filing"


@bp.route("/help")
def help_index():
    """Published answers: searched (``q``), in one category (``category``), or newest."""
    q = " ".join(arg_text("q").split())[:200]
    category_id = arg_int("category")
    page = page_arg()
    error = None
    counts: dict[int | None, int] = {}
    if q:
        try:
            found = find_answers(q, (PUBLIC_KEY,), status="published",
                                 category_id=category_id, page=page, per_page=PER_PAGE)
            counts = published_per_category(q)
        except QuerySyntaxError as exc:
            found, error = FoundPage([], page, PER_PAGE, 0), exc.message
    else:
        stmt = (
            select(KnowledgeAnswer)
            .where(KnowledgeAnswer.status == "published")
            .options(selectinload(KnowledgeAnswer.category))
            .order_by(KnowledgeAnswer.published_at.desc(), KnowledgeAnswer.id.desc())
        )
        if category_id is not None:
            stmt = stmt.where(KnowledgeAnswer.category_id == category_id)
        rows = paginate(stmt, page, PER_PAGE)
        found = FoundPage([Found(a) for a in rows.items], rows.page, PER_PAGE, rows.total or 0)
        counts = published_per_category()
    categories = [
        (category.id, f"{category.path_name} ({count})")
        for category, count in categories_with_counts(counts, category_id)
    ]
    return render_template(
        "knowledge/help.html", found=found, q=q, error=error, categories=categories,
        category_id=category_id,
    ), (400 if error else 200)


@bp.route("/help/suggest")
def suggest():
    """Published answers for a title being typed, as JSON (the filing page's script)."""
    title = " ".join(arg_text("q").split())[:200]
    try:
        answers = suggestions(title)
    except QuerySyntaxError:
        answers = []
    return jsonify(
        {
            "results": [
                {
                    "id": a.id,
                    "title": a.title,
                    "url": url_for("knowledge.answer", answer_id=a.id, **{"from": FROM_FILING}),
                }
                for a in answers
            ]
        }
    )


@bp.route("/help/<int:answer_id>")
def answer(answer_id: int):
    found = published_answer(answer_id)
    if found is None:
        abort(404)
    # Opened from the filing page by someone who can file: a possible deflection.
    from_filing = request.args.get("from") == FROM_FILING and can_file_case(current_user)
    record_view(found, current_user, from_filing)
    return render_template(
        "knowledge/answer.html",
        answer=found,
        form=FeedbackForm(formdata=None),
        voted=has_voted(found),
        from_filing=from_filing,
    )


@bp.route("/help/<int:answer_id>/feedback", methods=["POST"])
def feedback(answer_id: int):
    found = published_answer(answer_id)
    if found is None:
        abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return render_template(
            "knowledge/answer.html", answer=found, form=form, voted=False, from_filing=False
        ), 422
    if record_feedback(found, form.helpful.data == "yes"):
        flash(_("Thank you for telling us."), "success")
    else:
        flash(_("You have already told us whether this answer helped."), "info")
    return redirect(url_for("knowledge.answer", answer_id=answer_id))
