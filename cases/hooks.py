"""What the cases room does when a client is merged or anonymised (``portal.signals``).

The citizens room sends the signal; the case rows are changed only here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from cases.attachments import delete_attachment
from cases.models import Case
from citizens.models import Client
from portal.changes import record_rows
from portal.db import db
from portal.models import User
from portal.notifications.hooks import forget_case_messages
from portal.signals import Erasure, client_anonymised, client_merged

REMOVED_TEXT = "（内容已因用户注销而删除）"


@client_merged.connect
def move_cases(survivor: Client, *, merged: Client, actor: User) -> dict[str, Any]:
    """The merged record's cases belong to the survivor; their numbers go in the history."""
    moved = db.session.execute(
        update(Case)
        .where(Case.client_id == merged.id)
        .values(client_id=survivor.id)
        .returning(Case.id, Case.number)
    ).all()
    record_rows(Case, [row.id for row in moved])  # a bulk UPDATE: the change feed hears here
    return {"cases": [row.number for row in sorted(moved, key=lambda row: row.id)]}


@client_anonymised.connect
def blank_cases(client: Client, *, erasure: Erasure, actor: User) -> dict[str, Any]:
    """The cases keep their rows, states and timelines; their words go.

    Titles and descriptions become a neutral text, attachments are deleted (files once
    the transaction commits), and the person is masked wherever staff quoted them
    (timeline notes, replies, the messages about the cases).
    """
    cases = list(
        db.session.scalars(
            select(Case)
            .where(Case.client_id == client.id)
            .options(
                selectinload(Case.attachments),
                selectinload(Case.events),
                selectinload(Case.replies),
            )
        )
    )
    for case in cases:
        case.title = REMOVED_TEXT
        case.description = REMOVED_TEXT
        for attachment in list(case.attachments):
            delete_attachment(attachment)
        for item in case.events:
            item.note = erasure.mask(item.note)
        for reply in case.replies:
            reply.body = erasure.mask(reply.body) or ""
    forget_case_messages([case.id for case in cases], erasure)
    return {"cases": len(cases)}
