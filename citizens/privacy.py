"""Being forgotten (PIPL): ``anonymise_client`` carries out a deletion request.

It does not harm the statistics: case rows keep their status, category, district,
department, dates, deadlines and timeline, while everything that says who the person
is goes. This room erases its own rows; the other rooms erase theirs in receivers of
``portal.signals.client_anonymised``, sent in the same transaction (the cases room
blanks the cases, the core scrubs the accounts and the messages).
The client's copy of their data is ``citizens.data_export``.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select

from citizens.models import Client, ClientMerge, ContactLog, DeletionRequest, RevealLog
from portal.db import db, utcnow
from portal.models import User
from portal.signals import Erasure, client_anonymised, send

log = logging.getLogger(__name__)

ANONYMOUS_NAME = "已注销用户 #{id}"


def anonymise_client(client: Client, admin: User) -> Client:
    """Remove who the person is, keep what the statistics count (see the module doc).

    The record keeps its kind, district, size tier, industry and request count; its
    name becomes ``已注销用户 #<id>`` and every identifying field is cleared. The web
    accounts are disabled and scrubbed. The cases keep their rows, states, categories,
    districts, departments, dates, deadlines and timelines; their titles and
    descriptions are replaced with a neutral text, their attachments deleted (files
    once the transaction commits), and the person's name, phone, e-mail and ID numbers
    are masked wherever staff quoted them (notes, replies, staff's messages about the
    cases). Inbox messages and undelivered or sent e-mail/SMS to the person are deleted;
    contact-log entries stay without summaries.
    Records merged into this one (the same person) are anonymised too. Flushes.
    """
    done: set[int] = set()
    _anonymise(client, admin, done)
    db.session.flush()
    return client


def _anonymise(client: Client, admin: User, done: set[int]) -> None:
    if client.id in done:
        return
    done.add(client.id)
    # Read everything that identifies the person before anything is erased.
    accounts = list(db.session.scalars(select(User).where(User.client_id == client.id)))
    erasure = Erasure(
        client_id=client.id,
        account_ids=tuple(user.id for user in accounts),
        addresses=frozenset(
            value
            for value in (client.email, client.phone, *(u.email for u in accounts),
                          *(u.phone for u in accounts))
            if value
        ),
        secrets=tuple(_identifying_values(client, accounts)),
    )

    for contact in db.session.scalars(select(ContactLog).where(ContactLog.client_id == client.id)):
        contact.summary = ""
    for reveal in db.session.scalars(select(RevealLog).where(RevealLog.client_id == client.id)):
        reveal.reason = erasure.mask(reveal.reason) or ""
    for merge in db.session.scalars(
        select(ClientMerge).where(
            or_(ClientMerge.survivor_id == client.id, ClientMerge.merged_id == client.id)
        )
    ):
        merge.snapshot = "{}"
        merge.reason = erasure.mask(merge.reason) or ""
    for request in db.session.scalars(
        select(DeletionRequest).where(DeletionRequest.client_id == client.id)
    ):
        request.reason = None

    # The cases, the accounts and the messages: each room erases its own rows.
    report = send(client_anonymised, client, erasure=erasure, actor=admin)

    # The record itself.
    client.name = ANONYMOUS_NAME.format(id=client.id)
    client.phone = None
    client.email = None
    client.id_number = None
    client.credit_code = None
    client.contact_person = None
    client.address = None
    client.phone_verified_at = None
    client.email_verified_at = None
    client.notify_by_email = False
    client.notify_by_sms = False
    client.tags.clear()
    client.flags.clear()
    client.anonymised_at = utcnow()
    db.session.flush()
    log.info(
        "admin %s anonymised client %s (%d accounts, %d cases kept)",
        admin.id, client.id, len(accounts), report.get("cases", 0),
    )

    # Duplicates merged into this record are the same person.
    for duplicate in db.session.scalars(select(Client).where(Client.merged_into_id == client.id)):
        _anonymise(duplicate, admin, done)


def _identifying_values(client: Client, accounts: list[User]) -> list[str]:
    """What identifies the person, longest first (so a longer value is masked whole)."""
    values = {
        client.name,
        client.phone,
        client.email,
        client.id_number,
        client.credit_code,
        client.contact_person,
        client.address,
        *(user.display_name for user in accounts),
        *(user.email for user in accounts),
        *(user.phone for user in accounts),
        *(user.username for user in accounts),
    }
    # One-character values would mask too much of the staff's text.
    kept = {value.strip() for value in values if value and len(value.strip()) >= 2}
    return sorted(kept, key=len, reverse=True)
