"""Suggestions shown and what became of them: one ``IntakeSuggestion`` row per list shown
(a form asking again while its user types updates its own row), settled when the form is
filed (taken, overridden or auto-routed), and the auto-routing rule.

Auto-routing (``settle_filing``): with the setting on, a case just filed is dispatched to
the suggested department by the system when all of these hold:

1. it is still at intake (no routing rule dispatched it at filing);
2. the filer left the choice to the portal: a citizen took the *top* suggestion with one
   click (rank 1, the token's own list), or a clerk ticked "let the portal route";
3. the portal's suggestion for the text as filed (and its district), computed again at
   filing, puts the filed category on top with a score at or above the threshold.

The timeline then holds the system's dispatch and an internal ``auto_route`` event with
the score and the model version.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cases.actors import Actor
from cases.models import Case, CaseStatus
from cases.services import dispatch_case, record_event
from cases.smart_intake.models import IntakeSuggestion
from cases.smart_intake.predict import Suggestions, suggest
from cases.smart_intake.settings import intake_settings
from cases.smart_intake.urgency import UrgencyHint
from portal.db import db, utcnow
from portal.models import Department, User

log = logging.getLogger(__name__)

SHOWN, TAKEN, OVERRIDDEN, AUTO_ROUTED = "shown", "taken", "overridden", "auto_routed"
OUTCOMES = (SHOWN, TAKEN, OVERRIDDEN, AUTO_ROUTED)
SURFACES = ("citizen", "clerk", "api")
SURFACE_LABELS = {"citizen": _l("Citizens' filing form"), "clerk": _l("Clerk intake"),
                  "api": _l("JSON API"), None: _l("All")}
OUTCOME_LABELS = {SHOWN: _l("Shown"), TAKEN: _l("Taken"), OVERRIDDEN: _l("Overridden"),
                  AUTO_ROUTED: _l("Routed automatically")}
TOKEN_LENGTH = 40
# A token older than this is no longer settled by a filing (the form was left open).
TOKEN_LIFETIME = timedelta(days=1)


def surface_label(surface: str | None) -> str:
    return str(SURFACE_LABELS.get(surface, surface))


def outcome_label(outcome: str) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome))


def _suggested(result: Suggestions) -> list[dict]:
    return [{"category_id": s.category_id, "department_id": s.department_id, "score": s.score}
            for s in result.items]


def _own_row(token: str | None, user: User | None) -> IntakeSuggestion | None:
    """The row of ``token`` if it is ``user``'s, still undecided and recent; else None."""
    if not token or len(token) > TOKEN_LENGTH or user is None:
        return None
    row = db.session.scalar(select(IntakeSuggestion).where(IntakeSuggestion.token == token))
    if (row is None or row.user_id != user.id or row.outcome != SHOWN
            or row.created_at < utcnow() - TOKEN_LIFETIME):
        return None
    return row


def record_shown(result: Suggestions, hint: UrgencyHint, surface: str, user: User | None,
                 token: str | None = None) -> IntakeSuggestion | None:
    """Record the list shown (nothing shown, nothing recorded). A ``token`` of the same
    user's undecided row is updated instead, so one form typed into is one row."""
    if not result.items and not hint.urgent:
        return None
    row = _own_row(token, user)
    if row is None or row.surface != surface:
        row = IntakeSuggestion(token=secrets.token_urlsafe(24), surface=surface,
                               user_id=user.id if user else None, created_at=utcnow())
        db.session.add(row)
    row.model_version = result.version
    row.suggested = _suggested(result)
    row.urgent = hint.urgent
    db.session.flush()
    return row


@dataclass(frozen=True)
class FilingChoice:
    """What a filing form sent about suggestions: the list's token, the rank clicked, and
    (clerk intake) whether the clerk let the portal route the case."""

    token: str | None = None
    rank: int | None = None
    let_portal_route: bool = False

    @classmethod
    def from_form(cls, form) -> FilingChoice:
        token = (form.get("suggestion_token") or "").strip()[:TOKEN_LENGTH] or None
        rank_text = (form.get("suggestion_rank") or "").strip()
        rank = int(rank_text) if rank_text in ("1", "2", "3") else None
        return cls(token, rank, form.get("intake_auto_route") == "1")


@dataclass(frozen=True)
class Settled:
    row: IntakeSuggestion | None
    auto_routed: bool = False


def _rank_of(suggested: list[dict], category_id: int) -> int | None:
    for place, item in enumerate(suggested[:3], start=1):
        if item.get("category_id") == category_id:
            return place
    return None


def settle_filing(case: Case, choice: FilingChoice, user: User, surface: str) -> Settled:
    """After ``case`` was filed from a form: settle the suggestion row its token names
    (taken or overridden) and route the case automatically when the rule allows."""
    row = _own_row(choice.token, user)
    now = utcnow()
    if row is not None:
        rank = _rank_of(row.suggested or [], case.category_id)
        row.outcome = TAKEN if rank else OVERRIDDEN
        row.taken_rank = rank
        row.chosen_category_id = case.category_id
        row.case_id = case.id
        row.decided_at = now
    left_to_portal = (
        choice.let_portal_route if surface == "clerk"
        else row is not None and choice.rank == 1 and row.taken_rank == 1
    )
    routed = left_to_portal and auto_route(case, row, user, surface)
    db.session.flush()
    return Settled(row, routed)


def auto_route(case: Case, row: IntakeSuggestion | None, user: User, surface: str) -> bool:
    """Dispatch ``case`` to the suggested department if the setting, the case's state and
    a fresh suggestion for its text allow (see the module's rule); True when done."""
    settings = intake_settings()
    if not settings.auto_route or case.status is not CaseStatus.SUBMITTED:
        return False
    fresh = suggest(case.title, case.description, district_id=case.district_id)
    top = fresh.items[0] if fresh.items else None
    if (top is None or top.category_id != case.category_id or top.department_id is None
            or top.score < settings.auto_route_threshold):
        return False
    department = db.session.get(Department, top.department_id)
    if department is None or not department.is_active:
        return False
    dispatch_case(case, Actor.system(), department)
    record_event(case, Actor.system(), "auto_route", None, None, is_public=False, details={
        "department": department.id, "score": top.score, "model_version": fresh.version,
    })
    if row is None:
        row = IntakeSuggestion(token=secrets.token_urlsafe(24), surface=surface,
                               user_id=user.id, suggested=_suggested(fresh), created_at=utcnow())
        db.session.add(row)
    row.model_version = fresh.version
    row.outcome = AUTO_ROUTED
    row.taken_rank = 1
    row.chosen_category_id = case.category_id
    row.case_id = case.id
    row.decided_at = utcnow()
    log.info("case %s auto-routed to department %s (score %.3f)", case.number, department.id,
             top.score)
    return True
