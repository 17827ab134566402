"""Admin pages of the core: the overview, departments and districts.

Admins only; the rules live in ``portal.admin.services``. Staff accounts and the record
of admin actions are ``portal.admin.staff_views``. The rooms' admin pages (the catalogue)
live in the rooms and are listed on the overview. Lists are in pinyin order (``sort_key``).
"""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

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
from portal.db import db, get_or_404
from portal.models import Department, District, Role
from portal.permissions import role_required

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
    pagination = page_of(select(Department).order_by(Department.sort_key, Department.id))
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
    rows = db.session.scalars(select(District).order_by(District.sort_key, District.id)).all()
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
