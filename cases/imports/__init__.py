"""Importing history (cases, clients, a category tree) from another system's CSV or Excel."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """The admin pages (``/admin/imports``) and ``flask cases import``."""
    from cases.imports import cli, views  # noqa: F401  (cli adds its commands to ``flask cases``)
    from portal.admin import add_section

    # "thread": run an upload after the response; "inline": in the request, after the
    # commit (tests); "off": leave it queued for ``flask cases import-pending``.
    app.config.setdefault("IMPORT_RUN", "thread")
    app.config.setdefault("IMPORT_MAX_BYTES", views.DEFAULT_MAX_BYTES)
    app.register_blueprint(views.bp)
    add_section(app, "imports.index", _l("History imports"),
                _l("Bring in cases and categories from another system's CSV or Excel files."))
