"""Forms of the catalogue pages: categories, routing rules, the holiday calendar."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cases.models import TIME_UNIT_LABELS, TimeUnit
from portal.admin.forms import code_field, name_en_field, name_zh_field, position_field, strip
from portal.forms import PortalForm, coerce_id

MAX_DEADLINE = 365


def amount_field(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(message=_l("Give a number from 1 to 365.")),
            NumberRange(min=1, max=MAX_DEADLINE, message=_l("Give a number from 1 to 365.")),
        ],
    )


def unit_field(label: str) -> SelectField:
    return SelectField(
        label,
        choices=[SelectChoice(u.value, TIME_UNIT_LABELS[u]) for u in TimeUnit],
        validators=[DataRequired()],
    )


def optional_select(label: str) -> SelectField:
    """A select whose empty first option means "none" (choices are set by the view)."""
    return SelectField(label, coerce=coerce_id, validators=[Optional()])


def required_select(label: str, message: str) -> SelectField:
    return SelectField(label, coerce=coerce_id, validators=[InputRequired(message=message)])

def long_text_field(label: str, limit: int = 500) -> StringField:
    """An optional text of at most ``limit`` characters."""
    return StringField(
        label,
        filters=[strip],
        validators=[
            Optional(),
            Length(max=limit, message=_l("At most %(max)d characters.", max=limit)),
        ],
    )


class CategoryForm(PortalForm):
    parent_id = optional_select(_l("Parent category"))
    code = code_field()
    name_zh = name_zh_field()
    name_en = name_en_field()
    department_id = optional_select(_l("Default department"))
    position = position_field()
    is_active = BooleanField(_l("Active (cases can be filed under it)"), default=True)
    sign_amount = amount_field(_l("Time to sign for"))
    sign_unit = unit_field(_l("Unit of the time to sign for"))
    reply_amount = amount_field(_l("Time to reply"))
    reply_unit = unit_field(_l("Unit of the time to reply"))
    keywords = long_text_field(_l("Keywords"))
    description_zh = long_text_field(_l("Description (Chinese)"))
    description_en = long_text_field(_l("Description (English)"))


class RoutingRuleForm(PortalForm):
    category_id = required_select(_l("Category"), _l("Choose a category."))
    district_id = optional_select(_l("District"))
    department_id = required_select(_l("Department"), _l("Choose a department."))
    position = position_field()
    is_active = BooleanField(_l("Active"), default=True)


DAY_KINDS = ("holiday", "workday")


class CalendarDayForm(PortalForm):
    day = DateField(
        _l("Date"),
        format="%Y-%m-%d",
        validators=[InputRequired(message=_l("Give a date such as 2026-10-01."))],
    )
    kind = RadioField(
        _l("The day is"),
        choices=[
            SelectChoice("holiday", _l("A day off (holiday)")),
            SelectChoice("workday", _l("A working day (make-up working day)")),
        ],
        default="holiday",
        validators=[InputRequired(message=_l("Choose what kind of day it is."))],
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=100, message=_l("The name has at most 100 characters.")),
        ],
    )


class CalendarYearForm(PortalForm):
    """The buttons of the calendar page: import a year, mark it published."""

    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(),
            NumberRange(min=1990, max=2100, message=_l("Give a year from 1990 to 2100.")),
        ],
    )
