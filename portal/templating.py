"""Jinja globals and filters of the core: languages, dates in the portal's time zone,
masks, permission predicates. Rooms register their own (``cases.init_app``)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from babel import Locale, dates
from flask import Flask, current_app, request
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from portal.filter_selects import filter_select
from portal.i18n import current_language, html_lang
from portal.permissions import TEMPLATE_PREDICATES
from portal.privacy import mask_id_number, mask_phone


def local_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, format)


def time_left(due: datetime | None, now: datetime, locale: Locale | None = None) -> str:
    """"in 3 hours" / "2 days ago", in the page's language (``locale``: found already, for a
    caller writing many rows)."""
    if due is None:
        return ""
    return _span(due - now, True, locale)


def deadline_left(due: datetime | None, now: datetime, locale: Locale | None = None) -> str:
    """A deadline as the time left ("in 3 hours") or how long it is overdue."""
    if due is None:
        return ""
    if due >= now:
        return _span(due - now, True, locale)
    return _("overdue by %(span)s", span=_span(now - due, False, locale))


def _span(delta: timedelta, direction: bool, locale: Locale | None) -> str:
    # ``flask_babel.format_timedelta`` with the page's locale looked up once by the caller.
    return dates.format_timedelta(delta, "second", threshold=1.2, add_direction=direction,
                                  locale=locale or get_locale())


def as_choice(item: object, text: str = "label") -> tuple[object, str]:
    """``(value, text)`` for filter selects: an enum's value and label, or a row's id and name."""
    if isinstance(item, enum.Enum):
        return item.value, getattr(item, text)
    return item.id, getattr(item, "name" if text == "label" else text)  # type: ignore[attr-defined]


def register_templating(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.globals["time_left"] = time_left
    app.jinja_env.globals["deadline_left"] = deadline_left
    app.jinja_env.globals["filter_select"] = filter_select
    app.jinja_env.filters["choice"] = as_choice
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number
    # Templates ask named predicates (``can_work_queues(current_user)``), never roles.
    app.jinja_env.globals.update(TEMPLATE_PREDICATES)

    @app.context_processor
    def portal_globals() -> dict:
        language = current_language()
        return {
            "languages": current_app.config["LANGUAGES"],
            "current_language": language,
            "html_lang": html_lang(language),
            "request_path": request.full_path.rstrip("?"),
        }
