"""Pages: filing, "my requests", staff queues, the case page and its actions."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from cases import bp
from cases.forms import CaseForm, ReplyForm, TransitionForm
from cases.models import CaseStatus, CaseType, Channel
from cases.queries import (
    QUEUE_NAMES,
    case_by_number,
    client_cases_query,
    paginate,
    queue_query,
)
from cases.services import (
    CaseRequest,
    allowed_transitions,
    apply_transition,
    districts,
    file_case,
    leaf_categories,
    reply_to_case,
)
from portal.db import db
from portal.errors import DomainError
from portal.extensions import limiter
from portal.forms import add_form_error
from portal.permissions import can_file_case, can_view_case, can_work_queues


def filing_key() -> str:
    return f"user:{current_user.get_id()}"


def fill_case_choices(form: CaseForm) -> None:
    form.category.choices = [SelectChoice("", _("Choose a category"))] + [
        SelectChoice(c.id, c.name, optgroup=c.parent.name if c.parent else None)
        for c in leaf_categories()
    ]
    form.district.choices = [SelectChoice("", _("Choose a district"))] + [
        SelectChoice(d.id, d.name) for d in districts()
    ]


def page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


def load_case(number: str):
    """The case, if the signed-in user may see it; 404 otherwise (existence is private)."""
    case = case_by_number(number)
    if case is None or not can_view_case(current_user, case):
        abort(404)
    return case


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["FILING_RATE_LIMIT"], key_func=filing_key, methods=["POST"]
)
def new_request():
    if not can_file_case(current_user):
        abort(403)
    form = CaseForm()
    fill_case_choices(form)
    if form.validate_on_submit():
        data = CaseRequest(
            type=CaseType(form.type.data),
            category_id=form.category.data,
            title=form.title.data,
            description=form.description.data,
            district_id=form.district.data,
            channel=Channel.WEB,
        )
        try:
            case = file_case(current_user.client, current_user, data)
        except DomainError as error:
            db.session.rollback()
            add_form_error(form, error)
        else:
            db.session.commit()
            flash(
                _("Your request is filed. Its tracking number is %(number)s.", number=case.number),
                "success",
            )
            return redirect(url_for("cases.show", number=case.number))
    status = 422 if form.is_submitted() else 200
    return render_template("cases/new.html", form=form), status


@bp.route("/requests")
@login_required
def my_requests():
    if not current_user.is_client or current_user.client_id is None:
        abort(403)
    status_arg = request.args.get("status") or None
    status = CaseStatus(status_arg) if status_arg in CaseStatus._value2member_map_ else None
    pagination = paginate(
        client_cases_query(current_user.client_id, status),
        page_arg(),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "cases/my_requests.html", pagination=pagination, status=status, statuses=list(CaseStatus)
    )


@bp.route("/queues/<name>")
@login_required
def queue(name: str):
    if not can_work_queues(current_user):
        abort(403)
    if name not in QUEUE_NAMES:
        abort(404)
    pagination = paginate(
        queue_query(name, current_user), page_arg(), current_app.config["PAGE_SIZE"]
    )
    return render_template("cases/queue.html", name=name, pagination=pagination)


@bp.route("/cases/<number>")
@login_required
def show(number: str):
    case = load_case(number)
    return render_template(
        "cases/show.html",
        case=case,
        transitions=allowed_transitions(case, current_user),
        reply_form=ReplyForm(),
        transition_form=TransitionForm(),
    )


@bp.route("/cases/<number>/reply", methods=["POST"])
@login_required
def reply(number: str):
    case = load_case(number)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            reply_to_case(case, current_user, form.body.data)
        except DomainError as error:
            db.session.rollback()
            form.body.errors = [*form.body.errors, error.message]
            return render_case_with_errors(case, reply_form=form, status=409)
        db.session.commit()
        flash(_("Your reply is published."), "success")
        return redirect(url_for("cases.show", number=number))
    return render_case_with_errors(case, reply_form=form)


@bp.route("/cases/<number>/<action>", methods=["POST"])
@login_required
def transition(number: str, action: str):
    case = load_case(number)
    form = TransitionForm()
    if not form.validate_on_submit():
        return render_case_with_errors(case, transition_form=form)
    try:
        apply_transition(case, action, current_user, form.note.data)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return render_case_with_errors(case, transition_form=form, status=409)
    db.session.commit()
    flash(_("Done: %(status)s.", status=case.status.label), "success")
    return redirect(url_for("cases.show", number=number))


def render_case_with_errors(case, reply_form=None, transition_form=None, status: int = 422):
    return (
        render_template(
            "cases/show.html",
            case=case,
            transitions=allowed_transitions(case, current_user),
            reply_form=reply_form or ReplyForm(formdata=None),
            transition_form=transition_form or TransitionForm(formdata=None),
        ),
        status,
    )
