"""The knowledge base's forms (every one with a CSRF token, through ``PortalForm``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from portal.forms import PortalForm, coerce_id, int_or_none


class AnswerForm(PortalForm):
    """Writing or changing an answer; ``base_version`` is the version the writer loaded
    (not named ``version``: the form is filled from the answer, and a POST without it must
    not borrow the answer's current one)."""

    title = StringField(_l("Question"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=20000)])
    category = SelectField(_l("Category"), coerce=coerce_id, validators=[Optional()])
    base_version = HiddenField(filters=[int_or_none])


class AnswerStepForm(PortalForm):
    """A button on an answer (send for review, publish, unpublish), as of ``version``."""

    version = HiddenField(filters=[int_or_none], validators=[DataRequired()])


class FeedbackForm(PortalForm):
    """"Was this helpful?" yes or no."""

    helpful = StringField(validators=[DataRequired(), AnyOf(("yes", "no"))])
