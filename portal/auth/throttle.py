"""Failed sign-ins are throttled per client address *and* username, in shared storage.

The key is the address plus the lower-cased name typed, whether or not such an account
exists: after ``LOGIN_LOCKOUT_THRESHOLD`` failures within ``LOGIN_LOCKOUT_MINUTES`` that
address gets the same answer for any name, and even the right password waits. Another
address is not affected, so nobody can lock a real user (or ``admin``) out. There is
deliberately no per-account ceiling across addresses: it would let anyone lock anyone
out. The counters live in the limiter's storage (the database or Redis), shared by every
worker.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app
from limits import RateLimitItemPerMinute

from portal.extensions import limiter


def _item() -> RateLimitItemPerMinute:
    config = current_app.config
    return RateLimitItemPerMinute(
        int(config["LOGIN_LOCKOUT_THRESHOLD"]),
        int(config["LOGIN_LOCKOUT_MINUTES"]),
        namespace="LOGIN-FAILURES",
    )


def _identifiers(address: str | None, username: str) -> tuple[str, str]:
    # The name is hashed: people type passwords into the username field too.
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return address or "unknown", name


def _enabled() -> bool:
    # RATELIMIT_ENABLED = False (benchmarks) switches the throttle off with the limiter.
    return bool(current_app.config["RATELIMIT_ENABLED"])


def minutes_blocked(address: str | None, username: str) -> int:
    """Minutes until this address may try this name again; 0 when it may now."""
    if not _enabled():
        return 0
    item, keys = _item(), _identifiers(address, username)
    if limiter.limiter.test(item, *keys):
        return 0
    reset_at = limiter.limiter.get_window_stats(item, *keys).reset_time
    return max(1, math.ceil((reset_at - time.time()) / 60))


def record_failure(address: str | None, username: str) -> None:
    if _enabled():
        limiter.limiter.hit(_item(), *_identifiers(address, username))


def forget_failures(address: str | None, username: str) -> None:
    """A successful sign-in from this address wipes its earlier mistakes for this name."""
    if _enabled():
        limiter.limiter.clear(_item(), *_identifiers(address, username))
