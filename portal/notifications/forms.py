"""The editable message template form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm


class MessageTemplateForm(PortalForm):
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=4000)])
