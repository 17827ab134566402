"""The form an admin issues an Open311 key with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PortalForm

SCOPE_LABELS = {
    "post": _l("Post service requests"),
    "read": _l("Read (open to everyone anyway; recorded for the key's use log)"),
}


class ApiKeyForm(PortalForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(message=_l("Give the key a name.")), Length(max=100)])
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(value, label) for value, label in SCOPE_LABELS.items()],
        default=["post"],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    rate_limit = IntegerField(_l("Rate limit (calls a minute)"), default=60, validators=[
        InputRequired(message=_l("Give a number from 1 to 100000.")),
        NumberRange(min=1, max=100000, message=_l("Give a number from 1 to 100000.")),
    ])
