"""The templates' ``_()`` (``portal.i18n.template_gettext``) says what Jinja's own says."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale
from jinja2 import Environment

SOURCES = [
    "{{ _('Sign in') }}",
    "{{ _('Sign in') }}{{ _('Sign in') }}",  # the second from the kept strings
    "{{ _('similarity %(pct)d%%', pct=42) }}",
    "{{ _('Merge this case into %(number)s', number='<b>2026-1</b>') }}",
    "{{ gettext('Sign in') }}",
    "{% trans %}Sign in{% endtrans %}",
    "{% trans n=3 %}{{ n }} working day{% pluralize %}{{ n }} working days{% endtrans %}",
    "{{ _('no such message %%') }}",
]


def _stock(app: Flask, source: str, autoescape: bool) -> str:
    """``source`` rendered by Jinja's own newstyle gettext over the same catalogue."""
    from portal.i18n import request_translations

    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701
    translations = request_translations()
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translations.ugettext, translations.ungettext, newstyle=True)
    return env.from_string(source).render()


def test_template_strings_read_as_jinja_would_in_each_language(database: Flask):
    said = {}
    original = database.jinja_env.autoescape
    for locale in ("zh_CN", "en"):
        with database.test_request_context("/"), force_locale(locale):
            for source in SOURCES:
                for autoescape in (True, False):
                    database.jinja_env.autoescape = autoescape
                    try:
                        ours = render_template_string(source)
                    finally:
                        database.jinja_env.autoescape = original
                    assert ours == _stock(database, source, autoescape), (locale, source)
            said[locale] = render_template_string(SOURCES[0])
    assert said["zh_CN"] != said["en"] == "Sign in"  # each language from its own catalogue
