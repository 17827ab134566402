"""Helpers shared by every room's forms."""

from __future__ import annotations

import wtforms.widgets as wtforms_widgets
from flask_babel import get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import Select

from portal.errors import DomainError
from portal.params import MAX_ID, MIN_INT, clean_text, parse_int


class QuickSelect(Select):
    """WTForms' ``<select>``, writing a plain option without ``html_params``.

    The same markup, attribute for attribute (``<option selected value="…">``); WTForms
    builds a dict, sorts it and escapes through Markup's formatter for every option
    (~15 µs each: 6–8 ms for the filing form's ~80 options). Options with extra
    attributes go the library's way."""

    @classmethod
    def render_option(cls, choice, **kwargs):  # type: ignore[no-untyped-def]
        value = choice.value
        if kwargs or choice.render_kw or value is None or value is False:
            return super().render_option(choice, **kwargs)
        if value is True:
            value = "True"
        label = escape(choice.label or choice.value)
        selected = "selected " if choice.selected else ""
        # A plain string, every part escaped: the widget joins the options into Markup.
        return f'<option {selected}value="{escape(value)}">{label}</option>'


# Every select of the portal renders through it (forms declare plain SelectFields).
SelectField.widget = QuickSelect()
SelectMultipleField.widget = QuickSelect(multiple=True)


def quick_html_params(**kwargs: object) -> Markup:
    """WTForms' ``html_params``, the same attributes byte for byte, without
    ``Markup.format`` (a ``string.Formatter`` pass escaping each part: ~12 µs a call, and
    a form's fields, labels and selects call it ~30 times a page)."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = key.rstrip("_")
        if key.startswith(("data_", "aria_")):
            key = key.replace("_", "-")
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            # As WTForms: a quote left by ``escape`` (a value already Markup) is &quot;.
            text = str(escape(value)).replace('"', "&quot;")
            params.append(f'{escape(key)}="{text}"')
    return Markup(" ".join(params))  # noqa: S704 (every part escaped above)


def _use_quick_html_params() -> None:
    original = wtforms_widgets.core.html_params
    wtforms_widgets.core.html_params = quick_html_params
    wtforms_widgets.html_params = quick_html_params  # Label's, through the package
    for item in vars(wtforms_widgets.core).values():
        if isinstance(item, type) and item.__dict__.get("html_params") is not None \
                and item.__dict__["html_params"].__func__ is original:
            item.html_params = staticmethod(quick_html_params)


_use_quick_html_params()


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


# WTForms' built-in messages in our own words (its Chinese catalogue mixes languages:
# "无效的 Email 地址"). Every msgid WTForms may ask for is here, so none stays English.
WTFORMS_MESSAGES = {
    "This field is required.": _l("Fill in this field."),
    "Invalid input.": _l("This value is not valid."),
    "Invalid email address.": _l("Enter an e-mail address such as name@example.org."),
    "Invalid URL.": _l("Enter a web address such as https://example.org/."),
    "Invalid IP address.": _l("Enter a valid IP address."),
    "Invalid Mac address.": _l("This value is not valid."),
    "Invalid UUID.": _l("This value is not valid."),
    "Field must be equal to %(other_name)s.": _l("The two values differ."),
    "Field must be between %(min)d and %(max)d characters long.": _l(
        "Use %(min)d to %(max)d characters."
    ),
    "Number must be at least %(min)s.": _l("Enter a number of at least %(min)s."),
    "Number must be at most %(max)s.": _l("Enter a number of at most %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l(
        "Enter a number from %(min)s to %(max)s."
    ),
    "Invalid value, must be one of: %(values)s.": _l("Choose one of: %(values)s."),
    "Invalid value, can't be any of: %(values)s.": _l("This value is not allowed."),
    "This field cannot be edited.": _l("This field cannot be changed."),
    "This field is disabled and cannot have a value.": _l("This field cannot be changed."),
    "Invalid CSRF Token.": _l("The form has expired. Reload the page and try again."),
    "CSRF token missing.": _l("The form has expired. Reload the page and try again."),
    "CSRF failed.": _l("The form has expired. Reload the page and try again."),
    "CSRF token expired.": _l("The form has expired. Reload the page and try again."),
    "Invalid Choice: could not coerce.": _l("Choose a value from the list."),
    "Choices cannot be None.": _l("Choose a value from the list."),
    "Not a valid choice.": _l("Choose a value from the list."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l(
        "Choose values from the list."
    ),
    "Not a valid datetime value.": _l("Enter a date and time such as 2026-03-01 14:30."),
    "Not a valid date value.": _l("Enter a date such as 2026-03-01."),
    "Not a valid time value.": _l("Enter a time such as 14:30."),
    "Not a valid week value.": _l("Enter a week such as 2026-W09."),
    "Not a valid integer value.": _l("Enter a whole number."),
    "Not a valid decimal value.": _l("Enter a number."),
    "Not a valid float value.": _l("Enter a number."),
}


class PortalTranslations:
    """What WTForms asks its translations for, answered from ``WTFORMS_MESSAGES`` and our
    catalogue (a message we do not know yet is still looked up there)."""

    def gettext(self, string: str) -> str:
        message = WTFORMS_MESSAGES.get(string)
        return str(message) if message is not None else gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # Length's messages; WTForms fills the placeholders afterwards.
        translations = get_translations()
        if singular.startswith("Field must be at least"):
            return translations.ngettext(
                "Use at least %(min)d character.", "Use at least %(min)d characters.", n
            )
        if singular.startswith("Field cannot be longer"):
            return translations.ngettext(
                "Use at most %(max)d character.", "Use at most %(max)d characters.", n
            )
        if singular.startswith("Field must be exactly"):
            return translations.ngettext(
                "Use exactly %(max)d character.", "Use exactly %(max)d characters.", n
            )
        return translations.ngettext(singular, plural, n)


TRANSLATIONS = PortalTranslations()


class PortalForm(FlaskForm):
    """The base of every form: text is cleaned and integers kept in range, field by field;
    WTForms' own messages are ours (``WTFORMS_MESSAGES``), in the reader's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return TRANSLATIONS

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
    messages = list(getattr(error, "messages", None) or [error.message])
    if field is not None:
        field.errors = [*field.errors, *messages]
    else:
        form.form_errors.extend(messages)


def required_choice(field: SelectField) -> None:
    """Make an empty first option the placeholder of a select."""
    field.choices = [("", "—"), *field.choices]
