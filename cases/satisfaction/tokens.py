"""The rating link ``/rate/<token>``: signed, single-purpose, expiring, nothing personal.

The token signs the rating's id and a random nonce kept on the row (never the token
itself), under a salt of its own so no other signed value of the portal passes for it.
The same token can be shown again (reminder, closing message) without storing it. It is
*used* once the rating is no longer pending, *expired* after ``link_expires_at``, and a
forged or altered one fails the signature or the nonce.
"""

from __future__ import annotations

import enum
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from cases.satisfaction.models import Rating
from cases.satisfaction.vocabulary import RatingStatus
from portal.db import db, utcnow
from portal.notifications.services import absolute_url

SALT = "cases.satisfaction.rating-link"


class LinkState(enum.Enum):
    OPEN = "open"
    INVALID = "invalid"  # forged, altered, or for a rating that no longer exists
    EXPIRED = "expired"
    USED = "used"  # rated already (or defaulted, or no longer asked)


def new_nonce() -> str:
    return secrets.token_hex(16)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def rating_token(rating: Rating) -> str:
    """The token of ``rating``'s link (the same every time it is asked for)."""
    return _serializer().dumps([rating.id, rating.nonce])


def rate_url(rating: Rating) -> str:
    """The absolute address of ``rating``'s link."""
    token = rating_token(rating)
    return absolute_url("satisfaction.rate", f"/rate/{token}", token=token)


def read_token(token: str) -> tuple[Rating | None, LinkState]:
    """The rating a token names and whether it can be used now."""
    try:
        rating_id, nonce = _serializer().loads(token)
        rating_id = int(rating_id)
    except (BadSignature, TypeError, ValueError):
        return None, LinkState.INVALID
    rating = db.session.get(Rating, rating_id)
    if rating is None or not secrets.compare_digest(str(nonce), rating.nonce):
        return None, LinkState.INVALID
    if rating.status is not RatingStatus.PENDING:
        return rating, LinkState.USED
    if rating.link_expires_at <= utcnow():
        return rating, LinkState.EXPIRED
    return rating, LinkState.OPEN
