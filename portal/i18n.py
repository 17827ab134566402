"""Locale choice and small helpers for bilingual data."""

from __future__ import annotations

import enum
from functools import lru_cache

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_domain, get_locale
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from pypinyin import lazy_pinyin


def select_locale() -> str:
    """The user's stored choice, else the browser's ``Accept-Language``, else zh_CN."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    # Browsers send "zh-CN", "zh" or "en-US"; map them onto our two catalogues.
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best in ("zh-CN", "zh"):
        return "zh_CN"
    if best == "en":
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=16)
def parsed_locale(identifier: str) -> Locale:
    """``Locale.parse(identifier)``, once per identifier."""
    return Locale.parse(identifier)


def select_parsed_locale() -> Locale:
    """``select_locale`` as a ``Locale``, parsed once per identifier: Flask-Babel would
    parse the string on every request, and Babel's parse scans its list of locales each
    time (~1 ms a request)."""
    return parsed_locale(select_locale())


def request_translations() -> NullTranslations:
    """The translations of the request's locale, kept beside it for the request.

    Flask-Babel finds them anew for every string (the context three times over, the
    locale's name built to key its cache: ~20 µs a string, about a hundred strings a
    page). Here the first lookup is kept with the locale it was made for, and reused
    while that locale stands (``force_locale`` swaps it: a new lookup)."""
    app_context = _cv_app.get(None)
    held_in = app_context.g.__dict__.get("_flask_babel") if app_context is not None else None
    if held_in is not None:
        held = held_in.__dict__.get("portal_translations")
        locale = held_in.__dict__.get("babel_locale")
        if held is not None and locale is not None and held[0] is locale:
            return held[1]
    translations = Domain.get_translations(get_domain())  # Flask-Babel's own lookup
    held_in = app_context.g.__dict__.get("_flask_babel") if app_context is not None else None
    if held_in is not None and held_in.__dict__.get("babel_locale") is not None:
        held_in.portal_translations = (held_in.babel_locale, translations)
    return translations


class RequestDomain(Domain):
    """Flask-Babel's message domain, reading ``request_translations``."""

    def get_translations(self) -> NullTranslations:
        return request_translations()


def install_fast_translations(app: Flask) -> None:
    """Point Python's ``gettext`` and the templates' ``_`` at ``request_translations``."""
    configuration = app.extensions["babel"]
    configuration.instance.domain_instance = RequestDomain(domain=configuration.default_domain)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(gettext=template_gettext, _=template_gettext)


# Formatted template strings kept per catalogue: the templates' own literals, a few hundred.
TEMPLATE_STRINGS_KEPT = 4096


@pass_context
def template_gettext(context: Context, string: str, **variables: object) -> str:
    """The templates' ``_()`` and ``gettext``: Jinja's newstyle ``gettext``, in one call.

    Jinja's ``_`` resolves ``gettext``, which calls the translation function, each through
    ``Context.call``, then escapes and formats the text: ~10 µs a string, 20 strings on
    the home page and over a hundred on a case page. The result is the same; a string
    asked without variables is kept formatted beside its catalogue (one per locale)."""
    translations = request_translations()
    autoescape = context.eval_ctx.autoescape
    kept = None
    if not variables and type(string) is str:
        kept = translations.__dict__.get("_portal_template_strings")
        if kept is None:
            kept = translations._portal_template_strings = {}  # type: ignore[attr-defined]
        text = kept.get((string, autoescape))
        if text is not None:
            return text
    text = translations.ugettext(string)
    if autoescape:
        text = Markup(text)  # noqa: S704 (the catalogue is ours: Jinja marks it safe too)
    text = text % variables  # newstyle: always a format string, as Jinja's
    if kept is not None and len(kept) < TEMPLATE_STRINGS_KEPT:
        kept[(string, autoescape)] = text
    return text


def current_language() -> str:
    """``zh_CN`` or ``en`` for the request being served."""
    app_context = _cv_app.get(None)  # the chosen locale, read where Flask-Babel keeps it
    held_in = app_context.g.__dict__.get("_flask_babel") if app_context is not None else None
    locale = held_in.__dict__.get("babel_locale") if held_in is not None else None
    if locale is None:
        locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


def html_lang(language: str | None = None) -> str:
    """The value for ``<html lang>``: ``zh-CN`` or ``en`` (of ``language``, else the
    request's)."""
    return "en" if (language or current_language()) == "en" else "zh-CN"


def pinyin_key(text: str | None) -> str:
    """A sort key that puts Chinese names in pinyin order (``重庆`` as ``chong qing``).

    Latin letters and digits are kept (lower-cased), so mixed names sort sensibly too.
    Stored in ``sort_key`` columns so that SQL can order and paginate by it.
    """
    if not text:
        return ""
    return " ".join(lazy_pinyin(text.strip())).lower()[:200]


class LocalisedName:
    """Mixin for rows that carry ``name_zh`` and ``name_en``."""

    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        if current_language() == "en" and self.name_en:
            return self.name_en
        return self.name_zh


class LabelledEnum(enum.StrEnum):
    """A string enum whose members read as translated labels (see ``bind_labels``)."""

    @property
    def label(self) -> str:
        return str(type(self)._labels[self])  # type: ignore[attr-defined]


def bind_labels(enum_cls: type[LabelledEnum], labels: dict) -> dict:
    """Give ``enum_cls`` its members' lazy labels; returns them for module-level use."""
    missing = set(enum_cls) - set(labels)
    if missing:
        raise ValueError(f"{enum_cls.__name__} has no label for {sorted(missing)}")
    enum_cls._labels = labels  # type: ignore[attr-defined]
    return labels
