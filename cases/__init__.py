"""Cases: filing, the staff queues, the case page and its timeline."""

import logging

from flask import Blueprint

bp = Blueprint("cases", __name__)
log = logging.getLogger(__name__)

from cases import attachment_views, track_views, views  # noqa: E402,F401  (routes register)
