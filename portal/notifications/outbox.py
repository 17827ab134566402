"""The outbox writer: every e-mail and SMS the portal sends is queued here.

A row written in the caller's transaction is delivered by ``portal.notifications.delivery``
only once that transaction commits, so a change that rolls back says nothing.
"""

from __future__ import annotations

from portal.db import db, utcnow
from portal.models import User
from portal.notifications.models import MessageChannel, OutboxMessage
from portal.sealing import OUTBOX, seal

SUBJECT_MAX = 200  # the width of the subject columns


def queue_message(
    channel: MessageChannel,
    address: str,
    subject: str,
    body: str,
    event: str,
    recipient: User | None = None,
    *,
    case_id: int | None = None,
    secret_body: str | None = None,
    locale: str = "zh_CN",
) -> OutboxMessage:
    """Queue one message to ``address``; flushes, never commits.

    An SMS has no subject; a longer subject is cut to the column. ``secret_body`` is the
    real text of a message that carries a secret (a code): it is stored sealed, for the
    gateway only, while ``body`` (shown in lists and logs) holds it masked.
    """
    message = OutboxMessage(
        channel=channel,
        recipient_id=recipient.id if recipient else None,
        address=address.strip(),
        locale=locale,
        subject="" if channel == MessageChannel.SMS else subject[:SUBJECT_MAX],
        body=body,
        sealed_body=seal(secret_body, OUTBOX) if secret_body is not None else None,
        event=event,
        case_id=case_id,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message
