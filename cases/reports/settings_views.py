"""Admins' ranking rules: ``/admin/reports`` (weights of the composite, which level counts
as satisfied, whether "partly solved" counts as solved, whether defaulted ratings count).

Bad input is shown again with 422; every change is an admin action
(``settings.update_report_settings``).
"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from cases.reports import bp
from cases.reports.settings import (
    SATISFIED_LEVELS,
    RankingRules,
    report_settings,
    update_report_settings,
)
from cases.satisfaction.vocabulary import level_label
from portal.forms import PortalForm
from portal.models import Role
from portal.navigation import done
from portal.permissions import role_required
from portal.transactions import form_errors

PAGE = "reports/settings.html"


@bp.record_once
def _list_in_admin(state) -> None:
    from portal.admin import add_section

    add_section(
        state.app, "reports.settings", _l("Report rules"),
        _l("Weights of the composite score, which ratings count as satisfied and solved."),
    )


def weight_field(label) -> IntegerField:
    return IntegerField(label, validators=[
        InputRequired(message=_l("Give a number of points.")),
        NumberRange(min=0, max=100, message=_l("Give a number from %(min)d to %(max)d.",
                                               min=0, max=100)),
    ])


class RankingRulesForm(PortalForm):
    weight_response = weight_field(_l("Weight of the response rate (points)"))
    weight_resolution = weight_field(_l("Weight of the resolution rate (points)"))
    weight_satisfaction = weight_field(_l("Weight of the satisfaction rate (points)"))
    satisfied_from_level = SelectField(_l("A rating counts as satisfied from"), choices=[],
                                       default="3")
    partly_counts_as_solved = BooleanField(_l("“Partly solved” counts as solved"))
    count_defaulted = BooleanField(_l("Defaulted ratings count in the rates"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.satisfied_from_level.choices = [
            SelectChoice(str(level), level_label(level)) for level in SATISFIED_LEVELS]


def rules_form() -> RankingRulesForm:
    settings = report_settings()
    form = RankingRulesForm(formdata=None, obj=settings)
    form.satisfied_from_level.data = str(settings.satisfied_from_level)
    return form


@bp.route("/admin/reports")
@role_required(Role.ADMIN)
def settings():
    return render_template(PAGE, form=rules_form())


@bp.route("/admin/reports", methods=["POST"])
@role_required(Role.ADMIN)
def save_settings():
    form = RankingRulesForm()
    if not form.validate_on_submit():
        return render_template(PAGE, form=form), 422
    data = RankingRules(
        weight_response=form.weight_response.data,
        weight_resolution=form.weight_resolution.data,
        weight_satisfaction=form.weight_satisfaction.data,
        satisfied_from_level=int(form.satisfied_from_level.data),
        partly_counts_as_solved=bool(form.partly_counts_as_solved.data),
        count_defaulted=bool(form.count_defaulted.data),
    )
    with form_errors(form) as outcome:
        update_report_settings(data, current_user)
    if outcome.refused:
        return render_template(PAGE, form=form), 422
    return done(_("The report rules are saved."), "reports.settings")
