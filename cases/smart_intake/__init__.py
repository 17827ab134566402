"""Smart intake (智能派单): suggest a category and department from a request's words,
learned from closed cases; urgency hints; auto-routing above a threshold."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Admin pages, the suggestion endpoint and ``flask intake``."""
    from cases.smart_intake import admin_views, cli, model_views, suggestion_views

    app.register_blueprint(model_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(suggestion_views.bp)
    app.cli.add_command(cli.intake_cli)
