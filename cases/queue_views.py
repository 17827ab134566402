"""The staff queues: filtered, sorted, paginated lists, with bulk dispatch, reply and close."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cases import bp
from cases.forms import BulkDispatchForm, BulkReplyForm
from cases.models import CaseType, Priority
from cases.queries import (
    DEFAULT_SORT,
    INTAKE_QUEUES,
    QUEUE_NAMES,
    QUEUE_TITLES,
    SORT_LABELS,
    QueueFilter,
    cases_by_ids,
    queue_query,
    sort_labels,
)
from cases.queue_filters import category_options, district_filter_options
from cases.queue_forms import BulkCloseForm
from cases.queue_rows import ROW_COLUMNS, QueueRows
from cases.reply_templates import render_reply, templates_for
from cases.services import (
    ActionInput,
    allowed_transitions,
    dispatch_case,
    perform,
)
from cases.views import (
    department_choices,
    template_choices,
    usable_template,
)
from portal.db import db, utcnow
from portal.filter_selects import options
from portal.models import Department
from portal.pagination import paginate
from portal.params import arg_int, page_arg
from portal.permissions import can_work_queues, is_intake_staff
from portal.transactions import form_errors

# Queues whose cases can be answered with a template, several at once.
BULK_REPLY_QUEUES = ("unassigned", "mine", "department")


def queue_filter_from_args() -> QueueFilter:
    args = request.args
    priority = args.get("priority")
    case_type = args.get("type")
    return QueueFilter(
        category_id=arg_int("category"),
        district_id=arg_int("district"),
        priority=Priority(priority) if priority in Priority._value2member_map_ else None,
        type=CaseType(case_type) if case_type in CaseType._value2member_map_ else None,
        sort=args.get("sort") if args.get("sort") in SORT_LABELS else None,
    )


@bp.route("/queues/<name>")
@login_required
def queue(name: str):
    return render_queue(name)


def render_queue(name: str, status: int = 200, close_form: BulkCloseForm | None = None):
    """The queue page ``name`` (shown again with ``status`` when a bulk step was refused)."""
    if not can_work_queues(current_user):
        abort(403)
    if name not in QUEUE_NAMES:
        abort(404)
    if name == "department" and current_user.department_id is None:
        abort(404)
    if name in INTAKE_QUEUES and not is_intake_staff(current_user):
        abort(403)
    now = utcnow()
    filters = queue_filter_from_args()
    stmt = queue_query(name, current_user, now, filters, columns=ROW_COLUMNS)
    pagination = paginate(stmt, page_arg(), current_app.config["PAGE_SIZE"], scalars=False)
    bulk_form = None
    if name == "unassigned" and is_intake_staff(current_user):
        bulk_form = BulkDispatchForm()
        bulk_form.department.choices = department_choices(_("Choose a department"))
    reply_form = None
    if name in BULK_REPLY_QUEUES and templates_for(current_user):
        reply_form = BulkReplyForm()
        reply_form.template.choices = template_choices(_("Choose a reply template"))
    if name == "answered" and close_form is None:
        close_form = BulkCloseForm()
    sorts = sort_labels(name)
    rows = QueueRows(now, answered=name == "answered",
                     selectable=bool(bulk_form or reply_form or close_form))
    return render_template(
        "cases/queue.html",
        name=name,
        title=QUEUE_TITLES[name],
        queues=visible_queues(),
        pagination=pagination,
        rows=rows.render(pagination.items),
        filters=filters,
        now=now,
        categories=category_options(),
        districts=district_filter_options(),
        priorities=options((p.value, p.label) for p in Priority),
        types=options((t.value, t.label) for t in CaseType),
        sorts=options(sorts.items()),
        current_sort=filters.sort if filters.sort in sorts else DEFAULT_SORT.get(name, "due"),
        bulk_form=bulk_form,
        reply_form=reply_form,
        close_form=close_form,
    ), status


def visible_queues() -> list[tuple[str, str]]:
    """The queue tabs ``current_user`` gets (the service centre's own ones to intake staff)."""
    intake = is_intake_staff(current_user)
    names = [
        n
        for n in QUEUE_NAMES
        if (n != "department" or current_user.department_id)
        and (n not in INTAKE_QUEUES or intake)
    ]
    return [(n, str(QUEUE_TITLES[n])) for n in names]


@bp.route("/queues/unassigned/dispatch", methods=["POST"])
@login_required
def bulk_dispatch():
    """Dispatch several cases at once: all of them, or none when one is refused."""
    if not is_intake_staff(current_user):
        abort(403)
    form = BulkDispatchForm()
    form.department.choices = department_choices(_("Choose a department"))
    if not form.validate_on_submit() or not form.cases.data:
        flash(_("Choose the cases and the department to dispatch to."), "error")
        return redirect(url_for("cases.queue", name="unassigned")), 303
    department = db.session.get(Department, form.department.data)
    cases = cases_by_ids(form.cases.data)
    with form_errors() as outcome:
        for case in cases:
            dispatch_case(case, current_user, department)
    if outcome.refused:
        flash(_("Nothing was dispatched: %(reason)s", reason=outcome.error.message), "error")
        return redirect(url_for("cases.queue", name="unassigned")), 303
    flash(_("%(n)d cases dispatched.", n=len(cases)), "success")
    return redirect(url_for("cases.queue", name="unassigned"))


@bp.route("/queues/<name>/reply", methods=["POST"])
@login_required
def bulk_reply(name: str):
    """Answer several cases with one template, each filled in for its case; all or nothing."""
    if not can_work_queues(current_user) or name not in BULK_REPLY_QUEUES:
        abort(403)
    form = BulkReplyForm()
    form.template.choices = template_choices(_("Choose a reply template"))
    template = usable_template(form.template.data) if form.validate_on_submit() else None
    if template is None or not form.cases.data:
        flash(_("Choose the cases and a reply template."), "error")
        return redirect(url_for("cases.queue", name=name)), 303
    cases = cases_by_ids(form.cases.data)
    with form_errors() as outcome:
        for case in cases:
            steps = {t.action for t in allowed_transitions(case, current_user)}
            action = "reply" if "reply" in steps else "answer"
            perform(case, action, current_user, ActionInput(note=render_reply(template, case)))
    if outcome.refused:
        flash(_("Nothing was answered: %(reason)s", reason=outcome.error.message), "error")
        return redirect(url_for("cases.queue", name=name)), 303
    flash(_("%(n)d cases answered.", n=len(cases)), "success")
    return redirect(url_for("cases.queue", name=name))


@bp.route("/queues/answered/close", methods=["POST"])
@login_required
def bulk_close():
    """Close several answered cases at once: all of them, or none when one is refused."""
    if not is_intake_staff(current_user):
        abort(403)
    form = BulkCloseForm()
    ids = sorted({i for i in form.cases.data or () if i is not None})
    if not form.validate_on_submit() or not ids:
        flash(_("Choose the answered cases to close."), "error")
        return render_queue("answered", 422, form)
    cases = cases_by_ids(ids)
    if len(cases) != len(ids):
        flash(_("Some of the chosen cases do not exist; nothing was closed."), "error")
        return render_queue("answered", 422, form)
    note = form.note.data or None
    with form_errors() as outcome:
        for case in cases:
            perform(case, "close", current_user, ActionInput(note=note))
    if outcome.refused:
        flash(_("Nothing was closed: %(reason)s", reason=outcome.error.message), "error")
        return render_queue("answered", 409, form)
    flash(_("%(n)d cases closed.", n=len(cases)), "success")
    return redirect(url_for("cases.queue", name="answered"))
