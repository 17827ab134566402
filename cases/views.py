"""Pages: filing, "my requests", staff queues, the case page and its actions."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_
from wtforms.fields.choices import SelectChoice

from cases import bp
from cases.actors import Actor
from cases.attachments import may_add_information
from cases.catalogue.question_forms import filing_answers
from cases.catalogue.questions import case_answers
from cases.duplicates import (
    case_by_number_or_none,
    connected_cases,
    similar_open_cases,
)
from cases.filing import file_request
from cases.forms import ActionForm, CaseForm
from cases.knowledge.reading import note_filing
from cases.models import Case, CaseStatus, CaseType, Category, Channel, Priority, ReplyTemplate
from cases.page_actions import done_message, plan_actions
from cases.public import Audience, audience_of, face
from cases.queries import (
    case_by_number,
    client_cases_query,
    load_case_attachments,
)
from cases.reply_templates import render_reply, templates_for
from cases.services import (
    ActionInput,
    CaseRequest,
    allowed_records,
    allowed_transitions,
    perform,
    route_department,
)
from cases.services.catalogue import leaf_category_options
from cases.smart_intake.filing_hook import after_filing
from cases.timeline import timeline_lines
from cases.visibility import can_view_case
from cases.workflow import RECORDS, TRANSITIONS
from portal.db import db, utcnow
from portal.errors import DomainError, concurrent_change_message, render_error
from portal.extensions import limiter
from portal.forms import add_form_error
from portal.i18n import current_language
from portal.models import Department
from portal.navigation import home_for
from portal.pagination import paginate
from portal.params import arg_text, page_arg
from portal.permissions import can_file_case
from portal.refdata import cached, department_options, district_options
from portal.transactions import form_errors


def filing_key() -> str:
    return f"user:{current_user.get_id()}"


def category_choices(placeholder: str) -> list[SelectChoice]:
    language = current_language()
    choices = cached(f"leaf_category_choices:{language}", lambda: [
        SelectChoice(c.id, c.name, optgroup=c.parent.name if c.parent else None)
        for c in leaf_category_options()
    ])
    return [SelectChoice("", placeholder), *choices]


def district_choices(placeholder: str) -> list[SelectChoice]:
    return [SelectChoice("", placeholder)] + [
        SelectChoice(d.id, d.name) for d in district_options()
    ]


def department_choices(placeholder: str | None = None) -> list[SelectChoice]:
    head = [SelectChoice("", placeholder)] if placeholder else []
    return head + [SelectChoice(d.id, d.name) for d in department_options()]


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
    form = CaseForm(title=arg_text("title")[:200] or None)  # "Find answers" asked for it
    form.category.choices = category_choices(_("Choose a category"))
    form.district.choices = district_choices(_("Choose a district"))
    fields = filing_answers(form)  # the category's extra questions
    similar = []
    valid = not fields.waiting and form.validate_on_submit()
    answers = fields.check() if form.is_submitted() and not fields.waiting else ()
    valid = valid and answers is not None
    if valid and request.form.get("confirm_new") != "1":
        similar = similar_open_cases(
            form.category.data, form.district.data, form.title.data, current_user
        )
    if valid and not similar:
        data = CaseRequest(
            type=CaseType(form.type.data),
            category_id=form.category.data,
            title=form.title.data,
            description=form.description.data,
            district_id=form.district.data,
            channel=Channel.WEB,
            anonymous=form.anonymous.data,
            answers=answers,
        )
        with form_errors(form) as outcome:
            filed = file_request(
                data,
                actor=Actor.client(current_user),
                client=current_user.client,
                files=request.files.getlist("attachments"),
            )
            case = filed.case
            note_filing(case.id)  # the answers read before were no deflection
            after_filing(case, current_user, "citizen")  # the suggestion taken, if any
        if not outcome.refused:
            flash(
                _("Your request is filed. Its tracking number is %(number)s.", number=case.number),
                "success",
            )
            # The lookup code is shown once, on the next page, then forgotten.
            session["issued_code"] = [case.number, filed.tracking_code]
            return redirect(url_for("cases.show", number=case.number))
    status = 422 if form.is_submitted() and not similar and not fields.waiting else 200
    return render_template("cases/new.html", form=form, similar=similar, answers=fields), status


@bp.route("/requests")
@login_required
def my_requests():
    if not current_user.is_client or current_user.client_id is None:
        abort(403)
    status_arg = request.args.get("status") or None
    status = CaseStatus(status_arg) if status_arg in CaseStatus._value2member_map_ else None
    q = " ".join(arg_text("q").split())[:100]
    stmt = client_cases_query(current_user.client_id, status)
    if q:  # the client's own cases whose number or title contains the text
        stmt = stmt.where(
            or_(Case.number.icontains(q, autoescape=True), Case.title.icontains(q, autoescape=True))
        )
    pagination = paginate(stmt, page_arg(), current_app.config["PAGE_SIZE"])
    return render_template(
        "cases/my_requests.html",
        pagination=pagination,
        status=status,
        statuses=list(CaseStatus),
        q=q,
    )


def template_choices(placeholder: str) -> list[SelectChoice]:
    return [SelectChoice("", placeholder)] + [
        SelectChoice(t.id, t.title) for t in templates_for(current_user)
    ]


def action_form(actions: set[str] | None = None) -> ActionForm:
    """The shared action form, with choices loaded only for the actions on offer."""
    form = ActionForm()
    wanted = actions if actions is not None else {"dispatch", "classify", "reply"}
    departments = (
        department_choices() if wanted & {"dispatch", "transfer", "assist"} else []
    )
    form.department.choices = [SelectChoice("", _("Choose a department")), *departments]
    form.assisting.choices = departments
    form.category.choices = category_choices("—") if "classify" in wanted else []
    form.template.choices = (
        template_choices(_("No template"))
        if wanted & {"reply", "answer"}
        else [SelectChoice("", _("No template"))]
    )
    return form


def visible_case(number: str | None):
    """Another case named by number, if this user may see it (else as if it didn't exist)."""
    other = case_by_number_or_none(number)
    return other if other is not None and can_view_case(current_user, other) else None


def usable_template(template_id: int | None) -> ReplyTemplate | None:
    return next((t for t in templates_for(current_user) if t.id == template_id), None)


def render_case(case, form: ActionForm | None = None, failed_action: str | None = None,
                status: int = 200, previewing: bool = False, rating_form=None):
    """The case page; after a refused or previewed step, ``form`` hands back what was sent
    (``rating_form``: the owner's rating, handed back after a refusal)."""
    # Imported here: satisfaction builds on the cases room, not the other way round.
    from cases.satisfaction.rating_views import case_rating_context

    user = current_user
    issued = session.pop("issued_code", None)
    transitions = allowed_transitions(case, user)
    records = allowed_records(case, user)
    order = [t.action for t in transitions] + records
    offered = set(order)
    load_case_attachments(case)
    seen = face(case, audience_of(user), user)
    internal = seen.audience is Audience.STAFF
    labels = {t.action: t.label for t in transitions} | {a: RECORDS[a][2] for a in records}
    needs_note = {t.action: t.needs_note for t in transitions} | {
        a: a in ("note", "extension") for a in records
    }
    needs_note["withdraw"] = True  # the client's reason, asked before withdrawing
    related, merged = connected_cases(case, user) if internal else ([], [])
    # Possible duplicates cost a search: shown at once where the case may be merged (intake,
    # an open case), on request where it may only be linked.
    duplicates_offered = bool(offered & {"merge", "link"})
    look_for_duplicates = "merge" in offered or request.args.get("duplicates") == "1"
    return (
        render_template(
            "cases/show.html",
            case=case,
            issued_code=issued[1] if issued and issued[0] == case.number else None,
            transitions=transitions,
            records=records,
            plan=plan_actions(
                case.status,
                order,
                is_client=user.is_client,
                may_add_information=may_add_information(user, case),
            ),
            action_labels=labels,
            needs_note=needs_note,
            form=form or action_form(offered),
            failed_action=failed_action,
            previewing=previewing,
            suggested=route_department(case.category_id, case.district_id)
            if "dispatch" in offered
            else None,
            face=seen,
            timeline=timeline_lines(seen),
            internal=internal,
            reporter_visible=seen.reporter_visible,
            now=utcnow(),
            duplicates=similar_open_cases(
                case.category_id, case.district_id, case.title, user, exclude_id=case.id
            )
            if duplicates_offered and look_for_duplicates
            else [],
            duplicates_on_request=duplicates_offered and not look_for_duplicates,
            duplicates_looked=duplicates_offered and look_for_duplicates,
            answers=case_answers(case.id),
            related=related,
            merged=merged,
            **case_rating_context(case, user, rating_form),
        ),
        status,
    )


@bp.route("/cases/<number>")
@login_required
def show(number: str):
    return render_case(load_case(number))


@bp.route("/cases/<number>/<action>", methods=["POST"])
@login_required
def act(number: str, action: str):
    """Every step on a case posts here; the service decides whether it may happen."""
    case = load_case(number)
    form = action_form()
    if action not in TRANSITIONS and action not in RECORDS:
        form.form_errors.append(_("Unknown action."))
        return render_case(case, form, action, 409)
    if not form.validate_on_submit():
        return render_case(case, form, action, 422)
    may_take_now = action in {t.action for t in allowed_transitions(case, current_user)}
    if action in ("reply", "answer") and request.form.get("preview"):
        return preview_reply(case, form, action, may_take_now)
    if action == "withdraw" and may_take_now and not form.check_withdrawal():
        return render_case(case, form, action, 422)
    note = form.note.data
    template = usable_template(form.template.data)
    if action in ("reply", "answer") and not (note or "").strip() and template is not None:
        try:
            note = render_reply(template, case)
        except DomainError as error:  # a broken stored template, or too long filled in
            add_form_error(form, error)
            return render_case(case, form, action, 422)
    data = ActionInput(
        note=note,
        department=db.session.get(Department, form.department.data)
        if form.department.data
        else None,
        assisting=[d for d in (db.session.get(Department, i) for i in form.assisting.data) if d],
        days=form.days.data,
        approve=form.decision.data == "approve" if form.decision.data else None,
        case_type=CaseType(form.case_type.data) if form.case_type.data else None,
        category=db.session.get(Category, form.category.data) if form.category.data else None,
        priority=Priority(form.priority.data) if form.priority.data else None,
        target=visible_case(form.target.data),
    )
    if action == "decide_extension" and data.approve is None:
        form.decision.errors = [_("Choose approve or refuse.")]
        return render_case(case, form, action, 422)
    with form_errors(form, race=True) as outcome:
        perform(case, action, current_user, data)
    if outcome.lost_race:  # a colleague's step won the race; keep what this one typed
        case = case_by_number(number)
        if case is None or not can_view_case(current_user, case):  # e.g. returned meanwhile
            return render_error(409, concurrent_change_message(), unsaved=form.note.data)
        return render_case(case, form, action, 409)
    if outcome.refused:
        return render_case(load_case(number), form, action, 409)
    flash(
        done_message(
            action, case, department=data.department, assisting=data.assisting,
            days=data.days, approve=data.approve, target=data.target,
        ),
        "success",
    )
    if not can_view_case(current_user, case):  # e.g. returned: no longer this department's
        return redirect(home_for(current_user))
    return redirect(url_for("cases.show", number=number))


def preview_reply(case, form: ActionForm, action: str, may_take_now: bool):
    """The chosen template filled in for ``case``, handed back in the text field to edit.

    Nothing is saved: the sender reads (and may change) the text, then sends it.
    """
    if not may_take_now:  # only who may send the reply reads the templates' text
        form.form_errors.append(_("You may not do this to this case now."))
        return render_case(case, form, action, 409)
    template = usable_template(form.template.data)
    if template is None:
        form.template.errors = [_("Choose a reply template to preview.")]
        return render_case(case, form, action, 422)
    try:
        form.note.data = render_reply(template, case)
    except DomainError as error:  # a broken stored template, or too long filled in
        add_form_error(form, error)
        return render_case(case, form, action, 422)
    return render_case(case, form, action, previewing=True)
