"""Filing, reply and transition forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cases.models import CASE_TYPE_LABELS, CaseType


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class CaseForm(FlaskForm):
    """The filing form; field names are a fixed point (type, category, title, ...)."""

    type = SelectField(
        _l("Type of request"),
        choices=[SelectChoice(t.value, CASE_TYPE_LABELS[t]) for t in CaseType],
        validators=[DataRequired(message=_l("Choose the type of your request."))],
    )
    category = SelectField(
        _l("Category"),
        coerce=_int_or_none,
        validators=[InputRequired(message=_l("Choose a category."))],
    )
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Give your request a short title.")),
            Length(min=4, max=200, message=_l("The title needs 4 to 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(message=_l("Describe what happened and what you ask for.")),
            Length(min=10, max=5000, message=_l("The description needs 10 to 5000 characters.")),
        ],
    )
    district = SelectField(
        _l("District"),
        coerce=_int_or_none,
        validators=[InputRequired(message=_l("Choose the district where it happens."))],
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Public reply"),
        validators=[
            DataRequired(message=_l("Write the reply first.")),
            Length(max=5000, message=_l("The reply may have at most 5000 characters.")),
        ],
    )


class TransitionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])
