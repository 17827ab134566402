"""Cases: filing, the staff queues, the case page and its timeline.

The blueprint's routes live in the ``*views`` modules; the factory loads them through
``load_views`` (importing this package must not import every view: services and models
of other rooms import ``cases`` modules, and the views import theirs).
"""

import logging

from flask import Blueprint

bp = Blueprint("cases", __name__)
log = logging.getLogger(__name__)


def load_views() -> None:
    from cases import (  # noqa: F401  (routes register on import)
        attachment_views,
        intake_views,
        reply_template_views,
        track_views,
        views,
    )
