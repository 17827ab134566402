"""What satisfaction does when a client is merged or anonymised (``portal.signals``).

Merged: the merged record's ratings belong to the survivor (their cases moved too).
Anonymised: the client's own words go (rating comments; the staff's notes about calls and
bad reviews are masked), the levels stay so the figures do not change; the report says
what was kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from cases.satisfaction.models import BadReview, FollowUpCall, Rating
from citizens.models import Client
from portal.changes import record_rows
from portal.db import db
from portal.models import User
from portal.signals import Erasure, client_anonymised, client_merged


@client_merged.connect
def move_ratings(survivor: Client, *, merged: Client, actor: User) -> dict[str, Any]:
    """The merged record's ratings move to the survivor."""
    moved = db.session.execute(
        update(Rating)
        .where(Rating.client_id == merged.id)
        .values(client_id=survivor.id)
        .returning(Rating.id)
    ).scalars().all()
    record_rows(Rating, moved)
    return {"ratings": len(moved)}


@client_anonymised.connect
def erase_rating_comments(client: Client, *, erasure: Erasure, actor: User) -> dict[str, Any]:
    """Comments are erased; levels, solved, aspects and dates stay for the figures."""
    ratings = list(db.session.scalars(select(Rating).where(Rating.client_id == client.id)))
    rating_ids = [rating.id for rating in ratings]
    erased = 0
    for rating in ratings:
        if rating.comment:
            rating.comment = None
            erased += 1
    if rating_ids:
        for call in db.session.scalars(
            select(FollowUpCall).where(FollowUpCall.rating_id.in_(rating_ids))
        ):
            call.note = erasure.mask(call.note)
        for review in db.session.scalars(
            select(BadReview).where(BadReview.rating_id.in_(rating_ids))
        ):
            review.verification_note = erasure.mask(review.verification_note)
            review.resolution_note = erasure.mask(review.resolution_note)
            review.appeal_evidence = erasure.mask(review.appeal_evidence)
            review.appeal_decision_note = erasure.mask(review.appeal_decision_note)
    db.session.flush()
    return {
        "ratings": {
            "comments_erased": erased,
            # kept, without the person: the level, whether solved, the aspects, the dates
            "levels_kept": sum(1 for rating in ratings if rating.level is not None),
        }
    }
