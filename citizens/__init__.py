"""Clients: citizens and enterprises, one record each, with a 360° view for staff.

Registration, e-mail verification and claiming a staff record live here too
(``registration``). The blueprint's routes live in ``views``, ``account_views`` and
``merge_views``; the factory calls ``init_app``, which loads them (not this package:
``cases.models`` imports ``citizens.models``, and the views import ``cases``).
"""

import logging

from flask import Blueprint, Flask

bp = Blueprint("citizens", __name__)
log = logging.getLogger(__name__)


def load_views() -> None:
    from citizens import account_views, merge_views, reset_views, views  # noqa: F401  (routes)


def init_app(app: Flask) -> None:
    """Register the clients room on ``app`` (called once per application by the factory)."""
    load_views()
    app.register_blueprint(bp)
