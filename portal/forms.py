"""Helpers shared by every room's forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField

from portal.errors import DomainError
from portal.params import MAX_ID, MIN_INT, clean_text, parse_int


def clean_field_text(value: object) -> object:
    """Filter: a text field's value without control or bidi-override characters."""
    return clean_text(value) if isinstance(value, str) else value


def within_id_range(value: object) -> object:
    """Filter: an integer the database can store, else a form error (never a driver 500)."""
    if isinstance(value, int) and not MIN_INT <= value <= MAX_ID:
        raise ValueError(_l("This number is too large."))
    return value


def int_or_none(value: object) -> int | None:
    """Filter for hidden id fields: a storable whole number, else None (no such record)."""
    return parse_int(value)


def coerce_id(value: object) -> int | None:
    """``coerce`` for id selects: blank is None; an unstorable or non-numeric id is a
    form error ("could not coerce"), so no view ever looks up a number the database
    cannot hold."""
    if value is None or value == "":
        return None
    number = parse_int(value)
    if number is None:
        raise ValueError(value)
    return number


class PortalForm(FlaskForm):
    """The base of every form: text is cleaned and integers kept in range, field by field."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            kind = unbound_field.field_class
            filters = list(unbound_field.kwargs.get("filters") or ())
            # Passwords are compared, never shown or stored as text: leave them exact.
            if issubclass(kind, StringField) and not issubclass(kind, PasswordField):
                options = {**options, "filters": [clean_field_text, *filters]}
            elif issubclass(kind, IntegerField):
                options = {**options, "filters": [*filters, within_id_range]}
            return super().bind_field(form, unbound_field, options)


class LanguageForm(PortalForm):
    """The language switch on every page (a form, so it carries a CSRF token)."""


def add_form_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def required_choice(field: SelectField) -> None:
    """Make an empty first option the placeholder of a select."""
    field.choices = [("", "—"), *field.choices]
