"""Sign-in, sign-out, passwords of every account, and staff accounts.

Clients register in the clients room (``citizens.registration``).
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import tokens  # noqa: E402,F401  (the access-token table registers)
from portal.auth import views  # noqa: E402,F401  (routes register on import)
