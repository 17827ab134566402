"""Notifications: an outbox written with the change, delivered by a background job.

E-mail (SMTP), SMS (a gateway; log-only by default) and the in-app inbox.
"""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from portal.notifications import models  # noqa: E402,F401  (tables known to migrations)
