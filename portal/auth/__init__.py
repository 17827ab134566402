"""Sign-in, sign-out, passwords of every account, and staff accounts.

Clients register in the clients room (``citizens.registration``).
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import (  # noqa: E402,F401  (tables and routes register on import)
    token_views,
    tokens,
    views,
)
