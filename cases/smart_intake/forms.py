"""Forms of the smart intake admin pages: settings, and the urgency words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from cases.forms import priority_choices
from cases.smart_intake.settings import THRESHOLD_MAX, THRESHOLD_MIN
from cases.vocabulary import Priority
from portal.forms import PortalForm, int_or_none


class IntakeSettingsForm(PortalForm):
    auto_route = BooleanField(_l("Route confident suggestions automatically"))
    auto_route_threshold = DecimalField(
        _l("Auto-routing threshold (0.50 to 1.00)"),
        places=2,
        validators=[
            InputRequired(message=_l("Give a threshold from 0.50 to 1.00.")),
            NumberRange(min=THRESHOLD_MIN, max=THRESHOLD_MAX,
                        message=_l("Give a threshold from 0.50 to 1.00.")),
        ],
    )


def _priority_field() -> SelectField:
    return SelectField(_l("Suggested priority"), default=Priority.URGENT.value,
                       validators=[InputRequired(message=_l("Choose a priority."))])


class UrgencyWordForm(PortalForm):
    """A new word on the list."""

    word = StringField(_l("Word or phrase"), validators=[
        InputRequired(message=_l("Write the word or phrase.")),
        Length(max=50, message=_l("A word may have at most %(max)d characters.", max=50)),
    ])
    priority = _priority_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.priority.choices = priority_choices()


class UrgencyWordEditForm(PortalForm):
    """One listed word's priority and whether it is used (the word itself stays)."""

    word_id = HiddenField(filters=[int_or_none])
    priority = _priority_field()
    is_active = BooleanField(_l("In use"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.priority.choices = priority_choices()


class UrgencyWordRemoveForm(PortalForm):
    word_id = HiddenField(filters=[int_or_none])
