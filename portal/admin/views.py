"""Admin pages: the staff list and creating staff accounts."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from portal.admin import bp
from portal.auth.forms import StaffUserForm
from portal.auth.services import create_staff_user
from portal.db import db
from portal.errors import DomainError
from portal.forms import add_form_error
from portal.models import CLIENT_ROLES, Department, Role, User
from portal.permissions import role_required


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
    pagination = db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template("admin/users.html", pagination=pagination)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    form = StaffUserForm()
    form.department.choices = department_choices()
    if form.validate_on_submit():
        department = db.session.get(Department, form.department.data or 0)
        try:
            user = create_staff_user(
                username=form.username.data,
                password=form.password.data,
                role=Role(form.role.data),
                display_name=form.display_name.data,
                department=department,
                email=form.email.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            add_form_error(form, error)
        else:
            db.session.commit()
            flash(_("Staff account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/new_user.html", form=form), status
