"""Clients: citizens and enterprises, one record each, with a 360° view for staff."""

import logging

from flask import Blueprint

bp = Blueprint("citizens", __name__)
log = logging.getLogger(__name__)

from citizens import account_views, merge_views, views  # noqa: E402,F401  (routes register)
