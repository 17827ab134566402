"""Forms of the staff queues' bulk steps that live beside the queues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from portal.forms import PortalForm, coerce_id


class BulkCloseForm(PortalForm):
    """Close the chosen answered cases, with one optional note for all of them."""

    cases = SelectMultipleField(
        _l("Cases"), coerce=coerce_id, validate_choice=False, validators=[Optional()]
    )
    note = StringField(
        _l("Closing note (optional; the clients read it)"), validators=[Optional(), Length(max=500)]
    )
