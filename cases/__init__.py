"""Cases: filing, the staff queues, the case page and its timeline."""

import logging

from flask import Blueprint

bp = Blueprint("cases", __name__)
log = logging.getLogger(__name__)

from cases import (  # noqa: E402,F401  (routes register on import)
    attachment_views,
    intake_views,
    reply_template_views,
    track_views,
    views,
)
