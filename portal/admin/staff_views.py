"""Admin pages of staff accounts and of the admins' own record of what they did.

The list (filters, pages), creating and changing an account, disabling and enabling it,
forcing a password change, signing it out everywhere, and the activity page. Client
accounts are not listed or changed here (their owners keep them): their URLs are 404.
The rules live in ``portal.admin.staff``; every change is recorded (``portal.admin.audit``).
"""

from __future__ import annotations

from dataclasses import replace

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.admin import bp
from portal.admin.audit import activity_query, describe, recent_actions
from portal.admin.forms import ForceResetForm, StaffEditForm
from portal.admin.pages import active_department_choices, form_values, page_of, save_form
from portal.admin.staff import (
    StaffData,
    StaffFilter,
    create_staff_account,
    disable_staff,
    enable_staff,
    force_password_reset,
    sign_out_everywhere,
    staff_account,
    staff_query,
    update_staff,
)
from portal.auth.forms import StaffUserForm
from portal.auth.sessions import current_session
from portal.db import db, get_or_404
from portal.i18n import current_language
from portal.models import Department, Role, User
from portal.navigation import done
from portal.params import arg_int, arg_text, page_arg
from portal.permissions import role_required
from portal.transactions import form_errors


def department_choices() -> list[SelectChoice]:
    departments = db.session.scalars(
        select(Department)
        .where(Department.is_active.is_(True))
        .order_by(Department.sort_key, Department.id)
    )
    return [SelectChoice(0, _("No department"))] + [SelectChoice(d.id, d.name) for d in departments]


def all_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.sort_key, Department.id)))


FILTER_ARGS = ("q", "role", "department", "active")


def filter_from_args() -> StaffFilter:
    role = request.args.get("role")
    active = request.args.get("active")
    return StaffFilter(
        role=Role(role) if role in Role._value2member_map_ and Role(role).is_staff else None,
        department_id=arg_int("department"),
        active={"1": True, "0": False}.get(active or ""),
        q=" ".join(arg_text("q").split())[:100] or None,
    )


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    filters = filter_from_args()
    args = {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}
    return render_template(
        "admin/users.html",
        pagination=page_of(staff_query(filters)),
        filters=filters,
        roles=[r for r in Role if r.is_staff],
        departments=all_departments(),
        args=args,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    form = StaffUserForm()
    form.department.choices = department_choices()
    if form.validate_on_submit():
        department = db.session.get(Department, form.department.data or 0)
        with form_errors(form) as outcome:
            user = create_staff_account(
                username=form.username.data,
                password=form.password.data,
                role=Role(form.role.data),
                display_name=form.display_name.data,
                department=department,
                email=form.email.data or None,
            )
        if not outcome.refused:
            return done(_("Staff account %(username)s created.", username=user.username),
                        "admin.edit_user", user_id=user.id)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/new_user.html", form=form), status


def load_staff(user_id: int) -> User:
    """A staff account, else 404 (clients' accounts are not kept here)."""
    user = staff_account(user_id)
    if user is None:
        abort(404)
    return user


def render_edit(user: User, form: StaffEditForm | None = None, *, error: str | None = None,
                status: int = 200):
    if form is None:
        form = StaffEditForm(formdata=None, obj=user)
        form.role.data = user.role.value
    form.department_id.choices = active_department_choices(_("No department"), user.department)
    return render_template(
        "admin/user_form.html",
        user=user,
        form=form,
        reset_form=ForceResetForm(formdata=None),
        history=describe(recent_actions(user)),
        error=error,
        is_self=user.id == current_user.id,
    ), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int):
    user = load_staff(user_id)
    if request.method == "GET":
        return render_edit(user)
    form = StaffEditForm()
    form.department_id.choices = active_department_choices(_("No department"), user.department)

    def save() -> User:
        data = form_values(form, StaffData)
        return update_staff(user, replace(data, role=Role(data.role)),
                            current_user._get_current_object())

    return save_form(
        form,
        save,
        lambda u: _("The account %(username)s is saved.", username=u.username),
        url_for("admin.edit_user", user_id=user_id),
        "admin/user_form.html",
        user=user,
        reset_form=ForceResetForm(formdata=None),
        history=describe(recent_actions(user)),
        error=None,
        is_self=user.id == current_user.id,
    )


def account_step(user_id: int, step, message):
    """Run one POST step on a staff account; a refusal shows the account page (409)."""
    user = load_staff(user_id)
    with form_errors() as outcome:
        result = step(user, current_user._get_current_object())
    if outcome.refused:
        return render_edit(load_staff(user_id), error=outcome.error.message, status=409)
    return done(message(user, result), "admin.edit_user", user_id=user_id)


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@role_required(Role.ADMIN)
def disable_user(user_id: int):
    return account_step(
        user_id,
        disable_staff,
        lambda u, ended: _("%(username)s is disabled and signed out everywhere.",
                           username=u.username),
    )


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@role_required(Role.ADMIN)
def enable_user(user_id: int):
    return account_step(
        user_id,
        enable_staff,
        lambda u, _result: _("%(username)s can sign in again.", username=u.username),
    )


@bp.route("/users/<int:user_id>/force-reset", methods=["POST"])
@role_required(Role.ADMIN)
def force_reset(user_id: int):
    load_staff(user_id)
    form = ForceResetForm()
    if not form.validate_on_submit():
        abort(400)

    def step(user: User, actor: User) -> bool:
        return force_password_reset(
            user, actor, send_link=bool(form.send_link.data), locale=current_language()
        )

    def message(user: User, sent: bool) -> str:
        if sent:
            return _("%(username)s must choose a new password at the next sign-in; a link to "
                     "set one is on its way by e-mail.", username=user.username)
        return _("%(username)s must choose a new password at the next sign-in.",
                 username=user.username)

    return account_step(user_id, step, message)


@bp.route("/users/<int:user_id>/sign-out", methods=["POST"])
@role_required(Role.ADMIN)
def sign_out_user(user_id: int):
    """End every session of an account (a stolen cookie, a lost device) at once."""
    user = get_or_404(User, user_id)
    # An admin signing themselves out everywhere keeps the browser they did it from.
    keep = current_session() if user.id == current_user.id else None
    ended = sign_out_everywhere(user, current_user._get_current_object(), keep=keep)
    message = _("%(username)s is signed out everywhere (%(count)d sessions ended).",
                username=user.username, count=ended)
    if request.args.get("from") == "edit" and user.role.is_staff:
        return done(message, "admin.edit_user", user_id=user.id)
    return done(message, "admin.users", page=page_arg())


# --- the record of admin actions ----------------------------------------------------------


@bp.route("/activity")
@role_required(Role.ADMIN)
def activity():
    """What administrators did, newest first; one account's history with ``?user=``."""
    user_id = arg_int("user")
    target = db.session.get(User, user_id) if user_id is not None else None
    pagination = page_of(activity_query(user_id))
    return render_template(
        "admin/activity.html",
        pagination=pagination,
        rows=describe(pagination.items),
        target=target,
        user_id=user_id,
    )
