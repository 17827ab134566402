"""Forms of the core admin pages (staff, departments, districts) and the fields they share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from portal.forms import PortalForm, coerce_id
from portal.models import ROLE_LABELS, Role
from portal.validators import Phone

CODE_PATTERN = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
MAX_POSITION = 9999


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def lower(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


def code_field() -> StringField:
    return StringField(
        _l("Code"),
        filters=[lower],
        validators=[
            DataRequired(message=_l("Give a code.")),
            Length(max=40, message=_l("A code has at most 40 characters.")),
            Regexp(
                CODE_PATTERN,
                message=_l(
                    "Use lower-case letters and digits, joined by dots, dashes or underscores."
                ),
            ),
        ],
    )


def name_zh_field() -> StringField:
    return StringField(
        _l("Name (Chinese)"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give the Chinese name.")),
            Length(max=100, message=_l("The name has at most 100 characters.")),
        ],
    )


def name_en_field() -> StringField:
    return StringField(
        _l("Name (English)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=150, message=_l("The name has at most 150 characters.")),
        ],
    )


def position_field() -> IntegerField:
    return IntegerField(
        _l("Position"),
        default=0,
        validators=[
            InputRequired(message=_l("Give a position (0 comes first).")),
            NumberRange(
                min=0,
                max=MAX_POSITION,
                message=_l("Give a number from 0 to %(max)d.", max=MAX_POSITION),
            ),
        ],
    )


class DepartmentForm(PortalForm):
    code = code_field()
    name_zh = name_zh_field()
    name_en = name_en_field()
    is_active = BooleanField(_l("Active (cases can be dispatched to it)"), default=True)


class DistrictForm(PortalForm):
    code = code_field()
    name_zh = name_zh_field()
    name_en = name_en_field()
    position = position_field()


def staff_role_choices() -> list[SelectChoice]:
    return [SelectChoice(r.value, ROLE_LABELS[r]) for r in Role if r.is_staff]


class StaffEditForm(PortalForm):
    """A staff account's name, role, department and contact data (not its username)."""

    display_name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give a name.")),
            Length(max=100, message=_l("The name has at most 100 characters.")),
        ],
    )
    role = SelectField(
        _l("Role"),
        choices=staff_role_choices(),
        validators=[DataRequired(message=_l("Choose a role."))],
    )
    department_id = SelectField(_l("Department"), coerce=coerce_id, validators=[Optional()])
    email = StringField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            Optional(),
            Email(check_deliverability=False, message=_l("Enter a valid e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
        ],
    )
    phone = StringField(
        _l("Phone"),
        filters=[strip],
        validators=[Optional(), Length(max=32), Phone()],
    )


class ForceResetForm(PortalForm):
    send_link = BooleanField(_l("Also e-mail a link to set a new password"), default=True)
