"""The 12345 life cycle in Open311's words, and the settings Open311 reads.

GeoReport v2 knows two states, ``open`` and ``closed``; the ``servicerequestupdates``
extension (mySociety's, as FixMyStreet reads it) knows a few more. ``docs/OPEN311.md``
holds this table for readers; ``tests/test_open311_updates.py`` checks it covers every state.
"""

from __future__ import annotations

from flask import current_app

from cases.models import CaseStatus

OPEN, CLOSED = "open", "closed"

# Case state → the extension's detailed state (FixMyStreet's vocabulary).
EXTENDED: dict[CaseStatus, str] = {
    CaseStatus.SUBMITTED: "open",
    CaseStatus.ACCEPTED: "investigating",
    CaseStatus.DISPATCHED: "action_scheduled",
    CaseStatus.IN_PROGRESS: "in_progress",
    CaseStatus.WAITING: "investigating",
    CaseStatus.REPLIED: "fixed",
    CaseStatus.CLOSED: "closed",
    CaseStatus.NOT_ACCEPTED: "not_councils_responsibility",
    CaseStatus.WITHDRAWN: "no_further_action",
    CaseStatus.MERGED: "duplicate",
}
# Every detailed state FixMyStreet accepts (``open`` and ``closed`` included).
EXTENDED_STATES = (
    "open", "closed", "fixed", "in_progress", "action_scheduled", "investigating",
    "duplicate", "not_councils_responsibility", "no_further_action", "internal_referral",
)


def basic_status(status: CaseStatus) -> str:
    """``open`` while the case runs, ``closed`` once it is final (closed, not accepted,
    withdrawn, merged)."""
    return OPEN if status.is_open else CLOSED


def extended_status(status: CaseStatus) -> str:
    return EXTENDED[status]


def open_statuses() -> list[CaseStatus]:
    return [s for s in CaseStatus if s.is_open]


def closed_statuses() -> list[CaseStatus]:
    return [s for s in CaseStatus if not s.is_open]


# --- settings (the application's config, with these defaults) ----------------------------

DEFAULTS = {
    # The jurisdiction this portal answers for; a request naming another gets a 404.
    "OPEN311_JURISDICTION_ID": "gov-crm.local",
    # The district a posted request is filed in when it names none (a district code);
    # None: the first district in the list (by position).
    "OPEN311_DEFAULT_DISTRICT": None,
    # What discovery tells clients.
    "OPEN311_CONTACT": "",
    "OPEN311_CHANGESET": "2026-11-30T00:00:00+08:00",
    # GET requests: the standard's limit, and the largest page a client may ask for.
    "OPEN311_MAX_REQUESTS": 1000,
}


def setting(name: str):
    """``name`` from the app's config, else its default here."""
    return current_app.config.get(name, DEFAULTS[name])
