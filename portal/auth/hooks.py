"""What happens to web accounts when their client is merged or anonymised (``portal.signals``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from portal.auth.sessions import end_sessions
from portal.changes import record_rows
from portal.db import db
from portal.models import User
from portal.signals import Erasure, client_anonymised, client_merged

ANONYMOUS_ACCOUNT = "已注销用户"
UNUSABLE_PASSWORD = "!"  # noqa: S105 (matches no password: not a werkzeug hash)


@client_merged.connect
def move_accounts(survivor: Any, *, merged: Any, actor: User) -> dict[str, Any]:
    """The merged record's representatives sign in to the survivor's record."""
    moved = db.session.scalars(
        update(User)
        .where(User.client_id == merged.id)
        .values(client_id=survivor.id)
        .returning(User.id)
    ).all()
    record_rows(User, moved)  # a bulk UPDATE: the change feed hears of it here
    return {"accounts": len(moved)}


@client_anonymised.connect
def scrub_accounts(client: Any, *, erasure: Erasure, actor: User) -> None:
    """The person's accounts are disabled, emptied and signed out everywhere at once."""
    if not erasure.account_ids:
        return
    for user in db.session.scalars(select(User).where(User.id.in_(erasure.account_ids))):
        user.username = f"deleted-{user.id}"
        user.display_name = ANONYMOUS_ACCOUNT
        user.email = None
        user.phone = None
        user.locale = None
        user.active = False
        user.password_hash = UNUSABLE_PASSWORD
        end_sessions(user)
