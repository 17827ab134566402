"""The form that merges a duplicate record into the one being looked at."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import PortalForm, int_or_none


class MergeForm(PortalForm):
    """Which record goes into this one, and why (the reason stays in the history)."""

    other = HiddenField(
        filters=[int_or_none],
        validators=[InputRequired(message=_l("Choose the record to merge into this one."))],
    )
    reason = TextAreaField(
        _l("Reason for the merge"),
        description=_l("Kept in the merge history: say how you know they are the same."),
        validators=[
            DataRequired(message=_l("Give the reason for the merge.")),
            Length(max=2000, message=_l("The reason can have at most 2000 characters.")),
        ],
    )
