"""Warm-up for a new web worker (``gunicorn.conf.py``): the active model and the analyser's
dictionary are loaded before the first request, not by it."""

from __future__ import annotations

from flask import Flask


def warm_up(app: Flask) -> None:
    """Load the active model version (if any) and score one text with it."""
    from cases.smart_intake.store import active_model

    with app.app_context():
        loaded = active_model()
        if loaded is not None:
            loaded[1].rank("路灯不亮", k=1)
