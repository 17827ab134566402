"""Clients: citizens and enterprises, one record each, with a 360° view for staff.

The blueprint's routes live in ``views``, ``account_views`` and ``merge_views``; the
factory imports them (not this package: ``cases.models`` imports ``citizens.models``,
and the views import ``cases``).
"""

import logging

from flask import Blueprint

bp = Blueprint("citizens", __name__)
log = logging.getLogger(__name__)


def load_views() -> None:
    from citizens import account_views, merge_views, views  # noqa: F401  (routes register)
