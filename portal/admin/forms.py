"""Forms of the core admin pages (departments, districts) and the fields admin forms share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.forms import PortalForm

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
