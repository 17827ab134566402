"""Helpers shared by every room's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField

from portal.errors import DomainError


class LanguageForm(FlaskForm):
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
