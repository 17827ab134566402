"""Jinja globals and filters: languages, dates in the portal's time zone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request
from flask_babel import format_datetime

from cases.workflow import event_label
from portal.forms import LanguageForm
from portal.i18n import current_language, html_lang
from portal.privacy import mask_id_number, mask_phone


def local_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, format)


def register_templating(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.globals["event_label"] = event_label

    @app.context_processor
    def portal_globals() -> dict:
        return {
            "languages": current_app.config["LANGUAGES"],
            "current_language": current_language(),
            "html_lang": html_lang(),
            "language_form": LanguageForm(),
            "request_path": request.full_path.rstrip("?"),
        }
