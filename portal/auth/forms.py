"""Sign-in, password and staff-account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.auth.passwords import personal_inputs
from portal.forms import PortalForm, coerce_id
from portal.models import ROLE_LABELS, Role
from portal.validators import StrongPassword, Username


class LoginForm(PortalForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


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
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(max=256), StrongPassword()]
    )


def _signed_in_inputs() -> list[str | None]:
    return personal_inputs(current_user) if current_user.is_authenticated else []


class PasswordChangeForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=256), StrongPassword(extra=_signed_in_inputs)],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ResetRequestForm(PortalForm):
    login = StringField(
        _l("Username or e-mail"), validators=[DataRequired(), Length(max=254)]
    )


class ResetPasswordForm(PortalForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=256), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
