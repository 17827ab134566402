"""Open311 API keys: issue, revoke, recognise a key, limit it, and log every use.

A key is ``o311_`` and 40 random URL-safe characters; only its keyed hash (HMAC-SHA256 with
the app's ``SECRET_KEY``) and its first characters (``prefix``, shown in lists) are kept, so
the secret is shown once, when issued. Services flush, never commit.

The use log is written after the answer is known (``log_use``, called from the blueprint's
``after_request``): the request's own transaction has ended by then (committed or rolled
back by ``portal.transactions``), so the line is committed in a short transaction of its
own on the same session, and a refused request is logged too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from werkzeug.wrappers import Response

from cases.open311.models import ApiKey, ApiKeyUse
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.models import User

log = logging.getLogger(__name__)

KEY_PREFIX = "o311_"
PREFIX_LENGTH = 12  # "o311_" and 7 characters of the secret: enough to tell keys apart
SCOPES = ("post", "read")
_G_KEY = "open311_key"  # the key this request came with (recognised once)


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its secret, which is shown once and never stored."""

    key: ApiKey
    secret: str


def key_hash(secret: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"open311-key:" + secret.encode(), hashlib.sha256).hexdigest()


def parse_scopes(scopes: str | list[str] | tuple[str, ...]) -> str:
    """A space-separated list of known scopes (``post`` when none is given)."""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    items = [s.strip().lower() for s in items if s and s.strip()]
    unknown = [s for s in items if s not in SCOPES]
    if unknown:
        raise DomainError(_("Unknown scope: %(scope)s.", scope=", ".join(unknown)),
                          field="scopes")
    return " ".join(s for s in SCOPES if s in items) or "post"


def issue_key(name: str, scopes: str | list[str] = "post", rate_limit: int = 60,
              created_by: User | None = None) -> IssuedKey:
    """Make a key named ``name``; its secret is in the answer and nowhere else."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the key a name."), field="name")
    if len(name) > 100:
        raise DomainError(_("The name is too long (at most 100 characters)."), field="name")
    if not 1 <= int(rate_limit) <= 100000:
        raise DomainError(_("The rate limit is a number of calls a minute, 1 to 100000."),
                          field="rate_limit")
    secret = KEY_PREFIX + secrets.token_urlsafe(30)
    key = ApiKey(
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=key_hash(secret),
        scopes=parse_scopes(scopes),
        rate_limit=int(rate_limit),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(key)
    db.session.flush()
    log.info("Open311 key %s (%s) issued", key.id, key.prefix)
    return IssuedKey(key, secret)


def revoke_key(key: ApiKey, by: User | None) -> ApiKey:
    """Stop ``key`` working (at once, for every worker: the hash lookup checks it)."""
    if key.revoked_at is not None:
        raise DomainError(_("This key is revoked already."))
    key.revoked_at = utcnow()
    key.revoked_by_id = by.id if by is not None else None
    db.session.flush()
    log.info("Open311 key %s (%s) revoked", key.id, key.prefix)
    return key


def find_key(secret: str | None) -> ApiKey | None:
    """The key whose secret this is (revoked ones too), or None."""
    secret = (secret or "").strip()
    if not secret or len(secret) > 200:
        return None
    return db.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(secret)))


def has_scope(key: ApiKey, scope: str) -> bool:
    return scope in (key.scopes or "").split()


# --- the key a request comes with: recognised once, limited, logged ----------------------


def request_key() -> ApiKey | None:
    """The active key the request names in ``api_key`` (form or query), once per request."""
    if _G_KEY not in g:
        secret = request.form.get("api_key") or request.args.get("api_key")
        key = find_key(secret)
        g.setdefault(_G_KEY, key if key is not None and key.is_active else None)
        if key is not None and key.is_active:
            g.open311_key_id = key.id
    return g.get(_G_KEY)


def key_limit() -> str:
    """The limiter's limit for this request: the key's own calls a minute."""
    key = request_key()
    return f"{key.rate_limit if key is not None else 60} per minute"


def key_scope() -> str:
    key = request_key()
    return f"open311-key:{key.id if key is not None else 0}"


def without_key() -> bool:
    """No active key: nothing to limit (the view refuses the request with a 403)."""
    return request_key() is None


def note_case(case_id: int) -> None:
    """The case this request filed (its use log line names it)."""
    g.open311_case_id = case_id


def log_use(response: Response) -> Response:
    """Write the use of the request's key (if it had one) with the answer's status."""
    key_id = g.pop("open311_key_id", None)
    if key_id is None:
        return response
    now = utcnow()
    case_id = g.pop("open311_case_id", None) if response.status_code < 400 else None
    session = db.session
    try:
        session.execute(insert(ApiKeyUse).values(
            api_key_id=key_id, used_at=now, method=request.method[:10],
            path=request.path[:200], status=response.status_code, case_id=case_id,
        ))
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        session.commit()  # its own short transaction: the request's has ended
    except Exception:  # the answer stands; a lost log line is logged
        session.rollback()
        log.exception("could not log the use of Open311 key %s", key_id)
    return response
