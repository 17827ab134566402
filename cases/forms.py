"""Filing, case-action, queue-filter and bulk-dispatch forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from cases.models import CASE_TYPE_LABELS, PRIORITY_LABELS, CaseType, Priority
from portal.forms import PortalForm, coerce_id


class CaseForm(PortalForm):
    """The filing form; field names are a fixed point (type, category, title, ...)."""

    type = SelectField(
        _l("Type of request"),
        choices=[SelectChoice(t.value, CASE_TYPE_LABELS[t]) for t in CaseType],
        validators=[DataRequired(message=_l("Choose the type of your request."))],
    )
    category = SelectField(
        _l("Category"),
        coerce=coerce_id,
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
        coerce=coerce_id,
        validators=[InputRequired(message=_l("Choose the district where it happens."))],
    )
    anonymous = BooleanField(
        _l("File this tip-off anonymously"),
        description=_l(
            "Only for tip-offs. Only supervisors will see who you are; you still get the answer."
        ),
    )

    def validate_anonymous(self, field: BooleanField) -> None:
        if field.data and self.type.data != CaseType.TIPOFF.value:
            raise ValidationError(_l("Only tip-offs can be filed anonymously."))


class ActionForm(PortalForm):
    """Every action form on the case page posts these fields (each uses what it needs)."""

    note = TextAreaField(
        _l("Text"),
        validators=[
            Optional(),
            Length(max=5000, message=_l("The text may have at most 5000 characters.")),
        ],
    )
    department = SelectField(_l("Department"), coerce=coerce_id, validators=[Optional()])
    assisting = SelectMultipleField(
        _l("Assisting departments"), coerce=coerce_id, validators=[Optional()]
    )
    days = IntegerField(
        _l("Working days"),
        validators=[
            Optional(),
            NumberRange(min=1, max=30, message=_l("Ask for 1 to 30 working days.")),
        ],
    )
    case_type = SelectField(
        _l("Type"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(t.value, CASE_TYPE_LABELS[t]) for t in CaseType],
        validators=[Optional()],
    )
    category = SelectField(_l("Category"), coerce=coerce_id, validators=[Optional()])
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(p.value, PRIORITY_LABELS[p]) for p in Priority],
        validators=[Optional()],
    )
    template = SelectField(_l("Reply template"), coerce=coerce_id, validators=[Optional()])
    target = StringField(
        _l("Tracking number of the other case"), validators=[Optional(), Length(max=20)]
    )
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("approve", _l("Approve")), SelectChoice("refuse", _l("Refuse"))],
        validators=[Optional()],
    )
    confirm = BooleanField(_l("Yes, withdraw this request: it will not be answered."))

    def check_withdrawal(self) -> bool:
        """Withdrawing needs the client's reason and their confirmation (errors on the fields)."""
        ok = True
        if not (self.note.data or "").strip():
            self.note.errors = [*self.note.errors, _l("Tell us why you withdraw the request.")]
            ok = False
        if not self.confirm.data:
            self.confirm.errors = [
                *self.confirm.errors, _l("Confirm that you want to withdraw the request.")
            ]
            ok = False
        return ok


class BulkDispatchForm(PortalForm):
    cases = SelectMultipleField(
        _l("Cases"), coerce=coerce_id, validate_choice=False, validators=[Optional()]
    )
    department = SelectField(
        _l("Dispatch the selected cases to"),
        coerce=coerce_id,
        validators=[InputRequired(message=_l("Choose the department to dispatch to."))],
    )


class BulkReplyForm(PortalForm):
    cases = SelectMultipleField(
        _l("Cases"), coerce=coerce_id, validate_choice=False, validators=[Optional()]
    )
    template = SelectField(
        _l("Answer the selected cases with"),
        coerce=coerce_id,
        validators=[InputRequired(message=_l("Choose a reply template."))],
    )


def priority_choices() -> list[SelectChoice]:
    return [SelectChoice(p.value, PRIORITY_LABELS[p]) for p in Priority]
