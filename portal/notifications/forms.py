"""The editable message template form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm


class MessageTemplateForm(PortalForm):
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=4000)])


class NotificationSettingsForm(PortalForm):
    """How a member of staff wants to hear of cases besides the inbox."""

    by_email = BooleanField(_l("By e-mail"))
    by_sms = BooleanField(_l("By SMS"))
