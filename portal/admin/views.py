"""Admin pages of the core: the overview, staff accounts, departments and districts.

Admins only; the rules live in ``portal.admin.services`` and ``portal.auth.services``.
The rooms' admin pages (the catalogue) live in the rooms and are listed on the overview.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from portal.admin import admin_parts, bp
from portal.admin.forms import DepartmentForm, DistrictForm
from portal.admin.pages import form_values, page_of, save_form
from portal.admin.services import (
    DepartmentData,
    DistrictData,
    create_department,
    create_district,
    update_department,
    update_district,
)
from portal.auth.forms import StaffUserForm
from portal.auth.services import create_staff_user
from portal.auth.sessions import current_session, end_sessions
from portal.db import db, get_or_404
from portal.models import CLIENT_ROLES, Department, District, Role, User
from portal.params import page_arg
from portal.permissions import role_required
from portal.transactions import form_errors


def department_choices() -> list[SelectChoice]:
    departments = db.session.scalars(
        select(Department).where(Department.is_active.is_(True)).order_by(Department.code)
    )
    return [SelectChoice(0, _("No department"))] + [SelectChoice(d.id, d.name) for d in departments]


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    stmt = (
        select(User)
        .where(User.role.not_in(CLIENT_ROLES))
        .options(joinedload(User.department))
        .order_by(User.role, User.username)
    )
    return render_template("admin/users.html", pagination=page_of(stmt))


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    form = StaffUserForm()
    form.department.choices = department_choices()
    if form.validate_on_submit():
        department = db.session.get(Department, form.department.data or 0)
        with form_errors(form) as outcome:
            user = create_staff_user(
                username=form.username.data,
                password=form.password.data,
                role=Role(form.role.data),
                display_name=form.display_name.data,
                department=department,
                email=form.email.data or None,
            )
        if not outcome.refused:
            flash(_("Staff account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/new_user.html", form=form), status


@bp.route("/users/<int:user_id>/sign-out", methods=["POST"])
@role_required(Role.ADMIN)
def sign_out_user(user_id: int):
    """End every session of an account (a stolen cookie, a lost device) at once."""
    user = get_or_404(User, user_id)
    # An admin signing themselves out everywhere keeps the browser they did it from.
    keep = current_session() if user.id == current_user.id else None
    ended = end_sessions(user, keep=keep)
    flash(
        _("%(username)s is signed out everywhere (%(count)d sessions ended).",
          username=user.username, count=ended),
        "success",
    )
    return redirect(url_for("admin.users", page=page_arg()))


# --- index --------------------------------------------------------------------------------


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    notices = [notice() for notice in admin_parts(current_app).notices]
    return render_template("admin/index.html", notices=[n for n in notices if n])


# --- departments --------------------------------------------------------------------------


@bp.route("/departments")
@role_required(Role.ADMIN)
def departments():
    pagination = page_of(select(Department).order_by(Department.code))
    return render_template("admin/departments.html", pagination=pagination)


@bp.route("/departments/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_department():
    form = DepartmentForm()
    return save_form(
        form,
        lambda: create_department(form_values(form, DepartmentData)),
        lambda d: _("Department %(code)s created.", code=d.code),
        url_for("admin.departments"),
        "admin/department_form.html",
        department=None,
    )


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_department(department_id: int):
    department = get_or_404(Department, department_id)
    form = DepartmentForm(obj=department)
    return save_form(
        form,
        lambda: update_department(department, form_values(form, DepartmentData)),
        lambda d: _("Department %(code)s saved.", code=d.code),
        url_for("admin.departments"),
        "admin/department_form.html",
        department=department,
    )


# --- districts ----------------------------------------------------------------------------


@bp.route("/districts")
@role_required(Role.ADMIN)
def districts():
    rows = db.session.scalars(select(District).order_by(District.position, District.id)).all()
    return render_template("admin/districts.html", districts=rows)


@bp.route("/districts/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_district():
    form = DistrictForm()
    return save_form(
        form,
        lambda: create_district(form_values(form, DistrictData)),
        lambda d: _("District %(code)s created.", code=d.code),
        url_for("admin.districts"),
        "admin/district_form.html",
        district=None,
    )


@bp.route("/districts/<int:district_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_district(district_id: int):
    district = get_or_404(District, district_id)
    form = DistrictForm(obj=district)
    return save_form(
        form,
        lambda: update_district(district, form_values(form, DistrictData)),
        lambda d: _("District %(code)s saved.", code=d.code),
        url_for("admin.districts"),
        "admin/district_form.html",
        district=district,
    )
