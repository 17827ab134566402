"""Importing history (cases, clients, a category tree) from another system's CSV or Excel."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The admin pages (``/admin/imports``) and ``flask cases import``."""
    from cases.imports import cli, views  # noqa: F401  (cli adds its commands to ``flask cases``)

    app.register_blueprint(views.bp)
