"""The 差评 loop's steps on the case page and the ledger /ratings/ledger.

Each step posts to ``/cases/<number>/bad-review/<id>/<step>``: a case the user may not see
is a 404 (its existence is private), a step their role may not take a 403; the service
decides the rest. A refused step shows the case page again (422 for wrong input, 409 for
a stage that does not allow it or a colleague's step that won the race) with what was
typed kept in the panel; a step taken redirects back to the case page with a flash.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import Length, Optional

from cases.satisfaction import bp
from cases.satisfaction.bad_reviews import (
    MAX_NOTE,
    STEPS,
    appeal,
    decide_appeal,
    explain,
    fix,
    may_take_step,
    offered_steps,
    rectify,
    verify,
)
from cases.satisfaction.ledger import (
    LedgerFilter,
    appeal_decision,
    department_name,
    ledger_query,
    ledger_table,
    review_overdue,
)
from cases.satisfaction.models import BadReview
from cases.satisfaction.visibility import can_view_rating, may_read_ledger
from cases.satisfaction.vocabulary import OUTCOMES, RESOLUTIONS, BadReviewStage
from portal.db import db, utcnow
from portal.exports import WRITERS, export_response
from portal.forms import PortalForm
from portal.models import Department, Role
from portal.pagination import paginate
from portal.params import page_arg
from portal.transactions import form_errors

DONE = {
    "verify": _l("The verification call is recorded."),
    "fix": _l("The fix is published as a new answer; the client is asked to rate it."),
    "rectify": _l("The case is back with the department to rectify by its new deadline."),
    "explain": _l("The explanation is published to the client; the bad review is closed."),
    "appeal": _l("The appeal is lodged; a supervisor decides."),
    "decide": _l("The decision on the appeal is recorded."),
}
_SENT = "satisfaction.bad_review_sent"


class BadReviewStepForm(PortalForm):
    """One step's input: its note (or the appeal's evidence), the decision on an appeal,
    and the version of the review the page showed (a stale page is refused)."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)])
    evidence = TextAreaField(_l("Evidence"), validators=[Optional(), Length(max=MAX_NOTE)])
    decision = HiddenField()
    version = IntegerField(validators=[Optional()])


@bp.app_context_processor
def bad_review_globals() -> dict:
    """What ``satisfaction/_bad_review_panel.html`` asks."""
    return {
        "bad_review_steps": _steps_for_viewer,
        "bad_review_sent": _sent_for,
        "bad_review_overdue": lambda review: review_overdue(review, utcnow()),
        "bad_review_may_see": _may_see,
        "bad_review_resolutions": RESOLUTIONS,
        "bad_review_outcomes": OUTCOMES,
        "bad_review_appeal_decision": appeal_decision,
    }


def _may_see(review: BadReview) -> bool:
    """Staff who see the rating see its review (never a client: notes are internal)."""
    user = current_user
    return (
        user.is_authenticated and user.is_staff and can_view_rating(user, review.rating)
    )


def _steps_for_viewer(review: BadReview) -> list[str]:
    if not _may_see(review):
        return []
    return offered_steps(current_user, review, review.case)


def _sent_for(review: BadReview) -> tuple[str, BadReviewStepForm] | None:
    """The step refused on this request and what was typed, to show again."""
    sent = g.get(_SENT)
    return sent[1:] if sent and sent[0] == review.id else None


@bp.route("/cases/<number>/bad-review/<int:review_id>/<step>", methods=["POST"])
@login_required
def bad_review_step(number: str, review_id: int, step: str):
    """Verify, fix, rectify, explain, appeal or decide an appeal on one bad review."""
    from cases.views import load_case

    case = load_case(number)
    review = db.session.scalar(
        select(BadReview).where(BadReview.id == review_id, BadReview.case_id == case.id)
    )
    if review is None or step not in STEPS:
        abort(404)
    if not may_take_step(current_user, review, step):
        abort(403)
    form = BadReviewStepForm()
    valid = form.validate_on_submit()
    if step == "decide" and form.decision.data not in ("uphold", "refuse"):
        form.decision.errors = [_("Choose to uphold or to refuse the appeal.")]
        valid = False
    if not valid:
        return _again(case, review, step, form, 422)
    if form.version.data is not None and form.version.data != review.version:
        form.form_errors.append(_("This bad review was changed meanwhile; read it again."))
        return _again(case, review, step, form, 409)
    with form_errors(form, race=True) as outcome:
        _take(step, review, form)
    if outcome.refused:
        code = 422 if outcome.error.field and not outcome.lost_race else 409
        return _again(load_case(number), None, step, form, code, review_id)
    flash(str(DONE[step]), "success")
    return redirect(url_for("cases.show", number=number, _anchor=f"bad-review-{review_id}"))


def _take(step: str, review: BadReview, form: BadReviewStepForm) -> None:
    user = current_user._get_current_object()
    if step == "verify":
        verify(review, user, form.note.data)
    elif step == "fix":
        fix(review, user, form.note.data)
    elif step == "rectify":
        rectify(review, user, form.note.data)
    elif step == "explain":
        explain(review, user, form.note.data)
    elif step == "appeal":
        appeal(review, user, form.evidence.data)
    else:
        decide_appeal(review, user, form.decision.data == "uphold", form.note.data)


def _again(case, review: BadReview | None, step: str, form: BadReviewStepForm, status: int,
           review_id: int | None = None):
    """The case page again, the refusal flashed and the typed text kept in the panel."""
    from cases.views import render_case

    messages = list(form.form_errors) + [
        e for f in (form.note, form.evidence, form.decision, form.version) for e in f.errors
    ]
    for message in messages or [_("This step is not possible now.")]:
        flash(str(message), "error")
    g.setdefault(_SENT, (review.id if review is not None else review_id, step, form))
    return render_case(case, status=status)


# --- the ledger ---------------------------------------------------------------------------


@bp.route("/ratings/ledger")
@login_required
def ledger():
    """整改台账: every bad review the reader may see, with its stage, deadline and outcome."""
    if not may_read_ledger(current_user):
        abort(403)
    now = utcnow()
    filters = LedgerFilter.parse(request.args)
    pagination = paginate(
        ledger_query(current_user, filters, now), page_arg(), current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "satisfaction/ledger.html",
        pagination=pagination,
        filters=filters,
        filter_args=filters.args(),
        departments=_department_choices(),
        stages=list(BadReviewStage),
        outcomes=[("open", _("Not yet handled")), *((k, str(v)) for k, v in OUTCOMES.items())],
        resolutions=RESOLUTIONS,
        outcome_labels=OUTCOMES,
        formats=list(WRITERS),
        now=now,
        overdue=lambda review: review_overdue(review, now),
        department_name=department_name,
        appeal_decision=appeal_decision,
    )


@bp.route("/ratings/ledger/export")
@login_required
def ledger_export():
    """The filtered ledger as a download (``format``: csv; another writer when installed)."""
    if not may_read_ledger(current_user):
        abort(403)
    fmt = request.args.get("format", "csv")
    if fmt not in WRITERS:
        abort(404)
    now = utcnow()
    table = ledger_table(current_user, LedgerFilter.parse(request.args), now)
    return export_response(table, f"bad-reviews-{now:%Y%m%d}", fmt)


def _department_choices() -> list[tuple[int, str]]:
    """Departments to filter by: all of them city-wide, none for a department head."""
    if current_user.role is Role.DEPARTMENT_HEAD:
        return []
    rows = db.session.scalars(select(Department).order_by(Department.sort_key, Department.id))
    return [(d.id, d.name) for d in rows]
