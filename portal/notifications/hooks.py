"""What notifications does when a client is anonymised (``portal.signals``).

Messages to the person go (inbox, and e-mail/SMS sent or waiting); messages to staff
about the person's cases stay, with the person masked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, or_, select

from portal.db import db
from portal.models import User
from portal.notifications.models import InboxMessage, OutboxMessage
from portal.signals import Erasure, client_anonymised


@client_anonymised.connect
def forget_person(client: Any, *, erasure: Erasure, actor: User) -> None:
    """Delete the person's inbox and every e-mail/SMS to their accounts or addresses."""
    account_ids = list(erasure.account_ids)
    if account_ids:
        db.session.execute(delete(InboxMessage).where(InboxMessage.user_id.in_(account_ids)))
    to_person = [OutboxMessage.recipient_id.in_(account_ids)] if account_ids else []
    if erasure.addresses:
        to_person.append(
            and_(
                OutboxMessage.recipient_id.is_(None),
                OutboxMessage.address.in_(erasure.addresses),
            )
        )
    if to_person:
        _delete_outbox(or_(*to_person))


def forget_case_messages(case_ids: list[int], erasure: Erasure) -> None:
    """Messages about the person's cases: those to no account go, the rest are masked.

    Called by the cases room for the cases it keeps (it knows which they are).
    """
    if not case_ids:
        return
    _delete_outbox(
        and_(OutboxMessage.recipient_id.is_(None), OutboxMessage.case_id.in_(case_ids))
    )
    for model in (OutboxMessage, InboxMessage):
        for message in db.session.scalars(select(model).where(model.case_id.in_(case_ids))):
            message.subject = erasure.mask(message.subject) or ""
            message.body = erasure.mask(message.body) or ""


def _delete_outbox(where: Any) -> None:
    db.session.execute(
        delete(OutboxMessage).where(where).execution_options(synchronize_session=False)
    )
