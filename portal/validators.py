"""Form validators shared by the rooms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError

# Mainland mobiles (1[3-9]x, 11 digits) or landlines with area code (010-12345678).
PHONE_RE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value or "")


class Phone:
    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not PHONE_RE.match(normalise_phone(field.data)):
            raise ValidationError(
                self.message
                or _l("Enter a mobile number of 11 digits or a landline such as 010-12345678.")
            )


class Username:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not USERNAME_RE.match(field.data.strip()):
            raise ValidationError(
                _l("Use 3 to 64 letters, digits, dots, dashes or underscores.")
            )


class StrongPassword:
    """The password is long enough and hard to guess (``portal.auth.strength``): every
    problem is shown at once. ``inputs`` names the form's fields holding the account's
    own words (username, name, e-mail, phone); ``extra`` gives more (callable, for the
    signed-in user) and a form's ``password_inputs`` attribute more still."""

    field_flags = {"required": True}

    def __init__(
        self,
        inputs: tuple[str, ...] = ("username", "name", "display_name", "contact_person",
                                   "email", "phone"),
        extra=None,
    ) -> None:
        self.inputs = inputs
        self.extra = extra

    def __call__(self, form: Form, field: Field) -> None:
        # Here, not at the top: importing portal.auth loads its views, which use these.
        from portal.auth.strength import password_problems

        words = [getattr(form, name).data for name in self.inputs if hasattr(form, name)]
        if self.extra is not None:
            words += list(self.extra())
        # A view may add the account's own words (a reset link's user, say).
        words += list(getattr(form, "password_inputs", None) or ())
        words = [w for w in words if isinstance(w, str)]
        problems = password_problems(field.data or "", words)
        if problems:
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])
