"""What admin pages share: a page of rows, a form saved through one service, choices.

Used by the core's admin views and by the rooms' own admin pages (the catalogue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from flask import current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from wtforms.fields.choices import SelectChoice

from portal.db import db
from portal.models import Department, District
from portal.pagination import Page, paginate
from portal.params import page_arg
from portal.transactions import form_errors

T = TypeVar("T")


def page_of(stmt: Select) -> Page:
    """The page of ``stmt`` the query string asks for, ``PAGE_SIZE`` long."""
    return paginate(stmt, page_arg(), current_app.config["PAGE_SIZE"])


def form_values(form: FlaskForm, data_class: type[T]) -> T:
    """The service's data object, read from the form fields of the same names."""
    return data_class(**{f.name: form[f.name].data for f in fields(data_class)})  # type: ignore[arg-type]


def save_form(
    form: FlaskForm,
    save: Callable[[], Any],
    done: Callable[[Any], str],
    next_url: str,
    template: str,
    **context: Any,
):
    """Validate, call one service; or show the form again (422, nothing saved)."""
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            row = save()
        if not outcome.refused:
            flash(done(row), "success")
            return redirect(next_url)
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


def inactive_suffix(active: bool) -> str:
    return "" if active else " " + _("(inactive)")


def active_department_choices(placeholder: str, current: Department | None) -> list[SelectChoice]:
    departments = list(
        db.session.scalars(
            select(Department)
            .where(Department.is_active.is_(True))
            .order_by(Department.sort_key, Department.id)
        )
    )
    if current is not None and not current.is_active:
        departments.append(current)
    return [SelectChoice("", placeholder)] + [
        SelectChoice(d.id, f"{d.name} ({d.code}){inactive_suffix(d.is_active)}")
        for d in departments
    ]


def district_choices(placeholder: str) -> list[SelectChoice]:
    districts = db.session.scalars(select(District).order_by(District.sort_key, District.id))
    return [SelectChoice("", placeholder)] + [
        SelectChoice(d.id, f"{d.name} ({d.code})") for d in districts
    ]
