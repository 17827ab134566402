"""Sign-in, registration and staff-account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from citizens.identifiers import is_valid_credit_code, normalise_id
from citizens.models import ClientKind
from portal.forms import PortalForm, coerce_id
from portal.models import ROLE_LABELS, Role
from portal.validators import Phone, Username


class LoginForm(PortalForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class RegisterForm(PortalForm):
    kind = RadioField(
        _l("I am registering as"),
        choices=[
            SelectChoice(ClientKind.CITIZEN.value, _l("A citizen")),
            SelectChoice(ClientKind.ENTERPRISE.value, _l("An enterprise")),
        ],
        default=ClientKind.CITIZEN.value,
        validators=[DataRequired()],
    )
    name = StringField(
        _l("Full name or enterprise name"), validators=[DataRequired(), Length(max=200)]
    )
    contact_person = StringField(
        _l("Contact person (enterprises)"), validators=[Optional(), Length(max=100)]
    )
    credit_code = StringField(
        _l("Unified social credit code (enterprises)"), validators=[Optional(), Length(max=20)]
    )
    username = StringField(_l("Username"), validators=[DataRequired(), Username()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Phone()])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.kind.data == ClientKind.ENTERPRISE.value and not (self.contact_person.data or ""):
            self.contact_person.errors = [
                *self.contact_person.errors,
                _l("An enterprise needs a contact person."),
            ]
            ok = False
        if self.kind.data == ClientKind.ENTERPRISE.value:
            code = normalise_id(self.credit_code.data or "")
            if not code:
                self.credit_code.errors = [
                    *self.credit_code.errors,
                    _l("An enterprise gives its unified social credit code."),
                ]
                ok = False
            elif not is_valid_credit_code(code):
                self.credit_code.errors = [
                    *self.credit_code.errors,
                    _l(
                        "This is not a valid unified social credit code (check the last character)."
                    ),
                ]
                ok = False
        if not (self.phone.data or self.email.data):
            self.phone.errors = [*self.phone.errors, _l("Give a phone number or an e-mail.")]
            ok = False
        return ok


class StaffUserForm(PortalForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Username()])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role if r.is_staff],
        validators=[DataRequired()],
    )
    department = SelectField(_l("Department"), coerce=coerce_id, validators=[Optional()])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )
    password = PasswordField(_l("Initial password"), validators=[DataRequired()])
