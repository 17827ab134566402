"""Forms of the clients' self-service pages (registration, account) and of the admins'
deletion-request list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    Form,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from citizens.account_services import normalise_cn_phone
from citizens.identifiers import is_valid_credit_code, normalise_id
from citizens.models import ClientKind
from citizens.phone_verification import MOBILE_RE
from portal.forms import PortalForm
from portal.validators import Phone, StrongPassword, Username


class CnPhone:
    """A mainland mobile or landline number, as the ``phonenumbers`` library knows them."""

    def __call__(self, form: Form, field: Field) -> None:
        if (field.data or "").strip() and normalise_cn_phone(field.data) is None:
            raise ValidationError(
                _l("Enter a mobile number of 11 digits or a landline such as 010-12345678.")
            )


class ProfileForm(PortalForm):
    name = StringField(
        _l("Full name or enterprise name"),
        validators=[DataRequired(message=_l("Give your name.")), Length(max=200)],
    )
    contact_person = StringField(
        _l("Contact person (enterprises)"), validators=[Optional(), Length(max=100)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), CnPhone()])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )
    notify = RadioField(
        _l("Tell me about my requests by"),
        choices=[
            SelectChoice("email", _l("E-mail")),
            SelectChoice("sms", _l("SMS")),
            SelectChoice("both", _l("E-mail and SMS")),
            SelectChoice("none", _l("Neither (I look in the portal)")),
        ],
        validators=[DataRequired(message=_l("Choose how we tell you about your requests."))],
    )
    locale = RadioField(
        _l("Language"),
        choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")],
        validators=[DataRequired(message=_l("Choose a language from the list."))],
    )

    # Set by the view: an enterprise must name its contact person.
    enterprise = False

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the checks across fields, each on its own field."""
        ok = super().validate(extra_validators)
        phone = (self.phone.data or "").strip()
        email = (self.email.data or "").strip()
        if self.enterprise and not (self.contact_person.data or "").strip():
            self._fail(self.contact_person, _l("An enterprise needs a contact person."))
            ok = False
        if not (phone or email):
            self._fail(self.phone, _l("Give a phone number or an e-mail."))
            ok = False
        if self.notify.data in ("email", "both") and not email:
            self._fail(self.notify, _l("Give an e-mail address to be told by e-mail."))
            ok = False
        elif self.notify.data in ("sms", "both") and not phone:
            self._fail(self.notify, _l("Give a phone number to be told by SMS."))
            ok = False
        return ok

    @staticmethod
    def _fail(field: Field, message) -> None:
        field.errors = [*field.errors, message]


class MobilePhone:
    """A mainland mobile number (a code can only be texted to a mobile)."""

    def __call__(self, form: Form, field: Field) -> None:
        phone = normalise_cn_phone(field.data or "")
        if (field.data or "").strip() and (phone is None or not MOBILE_RE.match(phone)):
            raise ValidationError(_l("Enter a mobile number of 11 digits, such as 13800138000."))


class ActionOnlyForm(PortalForm):
    """A button that posts (sending a verification link): the CSRF token only."""


class PhoneCodeForm(PortalForm):
    code = StringField(
        _l("Verification code"),
        validators=[
            DataRequired(message=_l("Enter the code from the text message.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits.")),
        ],
    )


class SmsResetRequestForm(PortalForm):
    """Ask for a password reset code by SMS: the account's mobile, and its username when
    several accounts share the number."""

    phone = StringField(
        _l("Mobile phone"),
        validators=[
            DataRequired(message=_l("Give the mobile number of your account.")),
            Length(max=32),
            MobilePhone(),
        ],
    )
    username = StringField(
        _l("Username (if several accounts share the number)"),
        validators=[Optional(), Length(max=64)],
    )


class SmsResetForm(SmsResetRequestForm):
    """The code from the text message and the new password."""

    code = StringField(
        _l("Code from the text message"),
        validators=[
            DataRequired(message=_l("Enter the code from the text message.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits.")),
        ],
    )
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=256), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class DeletionRequestForm(PortalForm):
    confirm = BooleanField(
        _l("I understand that my account will be closed and my personal data deleted."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=2000)])


class DeletionDecisionForm(PortalForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("carry_out", _l("Delete: anonymise the client now")),
            SelectChoice("refuse", _l("Refuse")),
        ],
        validators=[DataRequired(message=_l("Choose a decision."))],
    )
    note = TextAreaField(_l("Reason for a refusal"), validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.decision.data == "refuse" and not (self.note.data or "").strip():
            self.note.errors = [*self.note.errors, _l("Give the reason for the refusal.")]
            ok = False
        return ok


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
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Phone()])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )

    @property
    def is_enterprise(self) -> bool:
        return self.kind.data == ClientKind.ENTERPRISE.value

    def for_kind(self) -> RegisterForm:
        """Word the form for the chosen kind: a citizen's full name, an enterprise's name."""
        if self.is_enterprise:
            self.name.label.text = _l("Enterprise name")
            self.contact_person.label.text = _l("Contact person")
            self.credit_code.label.text = _l("Unified social credit code")
        else:
            self.name.label.text = _l("Full name")
        return self

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.is_enterprise:
            # A citizen has no enterprise fields: whatever is posted for them is ignored.
            for ignored in (self.contact_person, self.credit_code):
                ignored.data, ignored.errors = None, []
            ok = not self.errors
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
