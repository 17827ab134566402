"""The admin's forms for the rating rules and the rated aspects (dimensions)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cases.satisfaction.vocabulary import level_label
from portal.admin.forms import position_field, strip
from portal.forms import PortalForm

# The default level a province may configure: none (stays unrated), 基本满意, 满意, 非常满意.
DEFAULT_LEVELS = (3, 4, 5)
COUNTING_CHOICES = [
    SelectChoice("natural", _l("Natural days")),
    SelectChoice("working", _l("Working days")),
]


def days_field(label, minimum: int, maximum: int, description=None) -> IntegerField:
    return IntegerField(
        label,
        description=description,
        validators=[
            InputRequired(message=_l("Give a number of days.")),
            NumberRange(
                min=minimum,
                max=maximum,
                message=_l("Give a number from %(min)d to %(max)d.", min=minimum, max=maximum),
            ),
        ],
    )


def default_level_choices() -> list[SelectChoice]:
    """None, or ★3 … ★5 in the reader's language."""
    return [SelectChoice("", _l("None: the answer stays unrated"))] + [
        SelectChoice(str(level), level_label(level)) for level in DEFAULT_LEVELS
    ]


class RulesForm(PortalForm):
    remind_after_days = days_field(
        _l("Send the one reminder after (days)"), 0, 60, _l("0: no reminder.")
    )
    default_after_days = days_field(_l("An answer waits for its rating (days)"), 1, 90)
    default_counting = SelectField(
        _l("Count these days as"), choices=COUNTING_CHOICES, default="natural"
    )
    default_level = SelectField(
        _l("Then the answer takes the level"), choices=[], default=""
    )
    link_valid_days = days_field(_l("The rating link works for (natural days)"), 1, 365)
    verify_working_days = days_field(_l("A bad review is verified within (working days)"), 1, 60)
    rectify_working_days = days_field(
        _l("A rectification is due within (working days)"), 1, 120
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_level.choices = default_level_choices()


class DimensionForm(PortalForm):
    """Rename, reorder, deactivate an aspect (its key never changes)."""

    name_zh = StringField(
        _l("Name (Chinese)"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give the Chinese name.")),
            Length(max=60, message=_l("The name has at most 60 characters.")),
        ],
    )
    name_en = StringField(
        _l("Name (English)"),
        filters=[strip],
        validators=[Optional(), Length(max=60, message=_l("The name has at most 60 characters."))],
    )
    position = position_field()
    is_active = BooleanField(_l("Asked on the rating form"), default=True)


class NewDimensionForm(DimensionForm):
    key = StringField(
        _l("Key"),
        filters=[strip],
        description=_l("The form field's name, e.g. clarity; it never changes."),
        validators=[
            InputRequired(message=_l("Give the aspect a key.")),
            Length(max=40, message=_l("The key has at most 40 characters.")),
        ],
    )


class DeleteDimensionForm(PortalForm):
    """Only the CSRF token: deleting an unused aspect."""
