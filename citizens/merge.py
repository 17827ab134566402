"""Merging one client record into another.

A merge moves everything that hangs off the merged record to the survivor, fills the
survivor's empty fields, and leaves the merged row as a tombstone (``merged_into_id``)
with a ``ClientMerge`` record that explains afterwards who merged what, when and why.
This room moves its own rows (contacts, reveal and deletion records, flags, tags,
earlier tombstones); the other rooms move theirs (cases, web accounts) in receivers of
``portal.signals.client_merged``, sent in the same transaction, and report what they
moved for the history. Finding duplicates is ``citizens.duplicates``; the comparison
and history pages read ``citizens.merge_review``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from citizens.duplicates import live
from citizens.merge_review import FILLED_FIELDS, is_empty
from citizens.models import (
    Client,
    ClientFlag,
    ClientMerge,
    ClientTag,
    ContactChannel,
    ContactLog,
    DeletionRequest,
    RevealLog,
)
from portal.changes import record_change, record_rows
from portal.db import db
from portal.errors import DomainError
from portal.models import User
from portal.signals import client_merged, send

log = logging.getLogger(__name__)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


SNAPSHOT_FIELDS = (
    "id",
    "kind",
    "name",
    "phone",
    "email",
    "id_number",
    "credit_code",
    "contact_person",
    "address",
    "district_id",
    "industry",
    "size_tier",
    "case_count",
    "locale",
    "notify_by_email",
    "notify_by_sms",
    "phone_verified_at",
    "email_verified_at",
    "created_at",
    "updated_at",
)


def merge_problem(survivor: Client, merged: Client) -> DomainError | None:
    """Why these two records may not be merged (a refusal to show), or None."""
    if survivor.id == merged.id:
        return DomainError(_("A record cannot be merged into itself."), field="other")
    for record in (survivor, merged):
        if record.merged_into_id is not None:
            return DomainError(
                _(
                    "Record #%(id)d has already been merged into record #%(into)d.",
                    id=record.id,
                    into=record.merged_into_id,
                ),
                field="other",
            )
        if record.anonymised_at is not None:
            return DomainError(
                _("Record #%(id)d has been anonymised and cannot be merged.", id=record.id),
                field="other",
            )
    if survivor.kind != merged.kind:
        return DomainError(
            _("A citizen's record and an enterprise's record cannot be merged."), field="other"
        )
    if survivor.id_number and merged.id_number and survivor.id_number != merged.id_number:
        return DomainError(
            _("The two records have different ID numbers: they are different people."),
            field="other",
        )
    if survivor.credit_code and merged.credit_code and survivor.credit_code != merged.credit_code:
        return DomainError(
            _("The two records have different credit codes: they are different enterprises."),
            field="other",
        )
    return None


def _move(model: Any, column: Any, merged_id: int, survivor_id: int) -> int:
    moved = db.session.scalars(
        update(model)
        .where(column == merged_id)
        .values({column.key: survivor_id})
        .returning(model.id)
    ).all()
    record_rows(model, moved)  # a bulk UPDATE: the change feed hears of it here
    return len(moved)


def merge_clients(survivor: Client, merged: Client, actor: User, reason: str) -> ClientMerge:
    """Make ``merged`` part of ``survivor``; flushes, never commits.

    Raises ``DomainError`` (nothing changed) when the two may not be merged.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the merge."), field="reason")
    # Lock both rows in a fixed order (PostgreSQL) and read them afresh, so two clerks
    # merging the same records at once cannot both succeed or make a cycle.
    db.session.execute(
        select(Client)
        .where(Client.id.in_([survivor.id, merged.id]))
        .order_by(Client.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    problem = merge_problem(survivor, merged)
    if problem is not None:
        raise problem

    record = {name: _json_value(getattr(merged, name)) for name in SNAPSHOT_FIELDS}
    flags = sorted(f.flag.value for f in merged.flags)
    tags = sorted(t.tag for t in merged.tags)
    merged_case_count = (
        db.session.scalar(select(Client.case_count).where(Client.id == merged.id)) or 0
    )

    # The tombstone first: a conditional update, so a concurrent merge loses cleanly.
    marked = db.session.execute(
        update(Client).where(Client.id == merged.id, live()).values(merged_into_id=survivor.id)
    )
    if marked.rowcount != 1:
        raise DomainError(_("This record was changed meanwhile. Reload and try again."))
    record_change("client", merged.id)

    # The other rooms' rows (cases, web accounts) move in their receivers.
    elsewhere = send(client_merged, survivor, merged=merged, actor=actor)
    case_numbers = list(elsewhere.get("cases", []))
    moved_cases = len(case_numbers)
    moved_accounts = int(elsewhere.get("accounts", 0))
    moved_contacts = _move(ContactLog, ContactLog.client_id, merged.id, survivor.id)
    moved_reveals = _move(RevealLog, RevealLog.client_id, merged.id, survivor.id)
    moved_deletions = _move(DeletionRequest, DeletionRequest.client_id, merged.id, survivor.id)
    # Records merged into this one before now point straight at the survivor.
    moved_tombstones = _move(Client, Client.merged_into_id, merged.id, survivor.id)

    added_flags = []
    have_flags = {f.flag for f in survivor.flags}
    for flag in list(merged.flags):
        merged.flags.remove(flag)
        if flag.flag not in have_flags:
            survivor.flags.append(ClientFlag(flag=flag.flag))
            have_flags.add(flag.flag)
            added_flags.append(flag.flag.value)
    added_tags = []
    have_tags = {t.tag for t in survivor.tags}
    for tag in list(merged.tags):
        merged.tags.remove(tag)
        if tag.tag not in have_tags:
            survivor.tags.append(ClientTag(tag=tag.tag))
            have_tags.add(tag.tag)
            added_tags.append(tag.tag)

    filled = []
    for name in FILLED_FIELDS:
        if is_empty(getattr(survivor, name)) and not is_empty(getattr(merged, name)):
            setattr(survivor, name, getattr(merged, name))
            filled.append(name)
    # A verification belongs to the value it verified.
    if "phone" in filled:
        survivor.phone_verified_at = merged.phone_verified_at
    if "email" in filled:
        survivor.email_verified_at = merged.email_verified_at
    survivor.case_count = Client.case_count + merged_case_count
    # The requests moved with their cases: the merged record keeps none, so its page
    # never counts a request (an anonymous tip-off among them) that is no longer there.
    merged.case_count = 0

    merge = ClientMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        user_id=actor.id,
        reason=reason,
        snapshot=json.dumps(
            {
                "record": record,
                "flags": flags,
                "tags": tags,
                "filled": filled,
                "moved": {
                    "cases": case_numbers,
                    "reveal_logs": moved_reveals,
                    "deletion_requests": moved_deletions,
                    "merged_records": moved_tombstones,
                    "flags": added_flags,
                    "tags": added_tags,
                },
            },
            ensure_ascii=False,
        ),
        moved_cases=moved_cases,
        moved_contacts=moved_contacts,
        moved_accounts=moved_accounts,
    )
    db.session.add(merge)
    db.session.add(
        ContactLog(
            client_id=survivor.id,
            channel=ContactChannel.WEB,
            staff_id=actor.id,
            summary=_("Merged record #%(id)d into this one.", id=merged.id),
            automatic=True,
        )
    )
    db.session.flush()
    log.info(
        "client %s merged into %s by user %s (%s cases, %s contacts, %s accounts)",
        merged.id,
        survivor.id,
        actor.id,
        moved_cases,
        moved_contacts,
        moved_accounts,
    )
    return merge

