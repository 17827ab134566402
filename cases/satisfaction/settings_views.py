"""Admins' satisfaction settings and dimensions: ``/admin/satisfaction``.

One page: the rating rules (reminder, default rating, link, 差评 deadlines) and the rated
aspects, each with its own small form. Bad input is shown again with 422; every change
is an admin action (``settings_services``).
"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cases.satisfaction import bp
from cases.satisfaction.admin_forms import (
    DeleteDimensionForm,
    DimensionForm,
    NewDimensionForm,
    RulesForm,
)
from cases.satisfaction.models import RatingDimension
from cases.satisfaction.settings import all_dimensions, current_settings
from cases.satisfaction.settings_services import (
    DimensionData,
    RulesData,
    add_dimension,
    delete_dimension,
    dimension_in_use,
    update_dimension,
    update_rules,
)
from portal.db import get_or_404
from portal.models import Role
from portal.navigation import done
from portal.permissions import role_required
from portal.transactions import form_errors

PAGE = "satisfaction/settings.html"


@bp.record_once
def _list_in_admin(state) -> None:
    from portal.admin import add_section

    add_section(
        state.app, "satisfaction.settings", _l("Ratings"),
        _l("When answers are reminded and default-rated, bad-review deadlines, rated aspects."),
    )


def rules_form() -> RulesForm:
    """The rules as saved."""
    settings = current_settings()
    form = RulesForm(formdata=None, obj=settings)
    form.default_counting.data = "working" if settings.default_working_days else "natural"
    form.default_level.data = str(settings.default_level or "")
    return form


def render_page(*, rules: RulesForm | None = None, new: NewDimensionForm | None = None,
                edited: tuple[int, DimensionForm] | None = None, error: str | None = None,
                status: int = 200):
    dimensions = all_dimensions()
    forms = {}
    for dimension in dimensions:
        if edited and edited[0] == dimension.id:
            forms[dimension.id] = edited[1]
        else:
            forms[dimension.id] = DimensionForm(formdata=None, obj=dimension,
                                                prefix=f"d{dimension.id}")
    return render_template(
        PAGE,
        rules=rules or rules_form(),
        dimensions=dimensions,
        dimension_forms=forms,
        used={d.id: dimension_in_use(d.key) for d in dimensions},
        new=new or NewDimensionForm(formdata=None, prefix="new"),
        error=error,
    ), status


@bp.route("/admin/satisfaction")
@role_required(Role.ADMIN)
def settings():
    return render_page()


@bp.route("/admin/satisfaction", methods=["POST"])
@role_required(Role.ADMIN)
def save_rules():
    form = RulesForm()
    if not form.validate_on_submit():
        return render_page(rules=form, status=422)
    data = RulesData(
        remind_after_days=form.remind_after_days.data,
        default_after_days=form.default_after_days.data,
        default_working_days=form.default_counting.data == "working",
        default_level=int(form.default_level.data) if form.default_level.data else None,
        link_valid_days=form.link_valid_days.data,
        verify_working_days=form.verify_working_days.data,
        rectify_working_days=form.rectify_working_days.data,
    )
    with form_errors(form) as outcome:
        update_rules(data, current_user)
    if outcome.refused:
        return render_page(rules=form, status=422)
    return done(_("The rating rules are saved."), "satisfaction.settings")


def dimension_data(form: DimensionForm) -> DimensionData:
    return DimensionData(name_zh=form.name_zh.data, name_en=form.name_en.data or "",
                         position=form.position.data, is_active=bool(form.is_active.data))


@bp.route("/admin/satisfaction/dimensions", methods=["POST"])
@role_required(Role.ADMIN)
def new_dimension():
    form = NewDimensionForm(prefix="new")
    if not form.validate_on_submit():
        return render_page(new=form, status=422)
    with form_errors(form) as outcome:
        add_dimension(form.key.data, dimension_data(form), current_user)
    if outcome.refused:
        return render_page(new=form, status=422)
    return done(_("The aspect is added to the rating form."), "satisfaction.settings",
                _anchor="dimensions-heading")


@bp.route("/admin/satisfaction/dimensions/<int:dimension_id>", methods=["POST"])
@role_required(Role.ADMIN)
def edit_dimension(dimension_id: int):
    dimension = get_or_404(RatingDimension, dimension_id)
    form = DimensionForm(prefix=f"d{dimension.id}")
    if not form.validate_on_submit():
        return render_page(edited=(dimension.id, form), status=422)
    with form_errors(form) as outcome:
        update_dimension(dimension, dimension_data(form), current_user)
    if outcome.refused:
        return render_page(edited=(dimension_id, form), status=422)
    return done(_("The aspect is saved."), "satisfaction.settings", _anchor="dimensions-heading")


@bp.route("/admin/satisfaction/dimensions/<int:dimension_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def remove_dimension(dimension_id: int):
    dimension = get_or_404(RatingDimension, dimension_id)
    form = DeleteDimensionForm()
    if not form.validate_on_submit():
        return render_page(status=422)
    with form_errors(form) as outcome:
        delete_dimension(dimension, current_user)
    if outcome.refused:
        return render_page(error=outcome.error.message, status=409)
    return done(_("The aspect is deleted."), "satisfaction.settings",
                _anchor="dimensions-heading")
