"""Duplicate client records: finding them, and merging one into another.

A merge moves everything that hangs off the merged record (cases, contacts, web accounts,
reveal and deletion records, flags, tags) to the survivor, fills the survivor's empty
fields, and leaves the merged row as a tombstone (``merged_into_id``) with a
``ClientMerge`` record that explains afterwards who merged what, when and why.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Integer, and_, func, literal, or_, select, union_all, update

from cases.duplicates import title_similarity
from cases.models import Case
from citizens.models import (
    SIZE_TIER_LABELS,
    Client,
    ClientFlag,
    ClientKind,
    ClientMerge,
    ClientTag,
    ContactChannel,
    ContactLog,
    DeletionRequest,
    RevealLog,
    SizeTier,
    VulnerableGroup,
)
from portal.changes import record_change, record_rows
from portal.db import db
from portal.errors import DomainError
from portal.models import District, User
from portal.pagination import Page, paginate
from portal.privacy import mask_id_number, mask_phone

log = logging.getLogger(__name__)

# --- suggestions ------------------------------------------------------------------

NAME_SIMILARITY = 0.5
MAX_CANDIDATES = 300  # rows compared by name in Python, at most

# Why two records look like one person or firm; the codes are stable, the labels shown.
SAME_ID_NUMBER = "id_number"
SAME_CREDIT_CODE = "credit_code"
SAME_PHONE = "phone"
SIMILAR_NAME_ADDRESS = "name_address"
SIMILAR_NAME_DISTRICT = "name_district"

REASON_LABELS = {
    SAME_ID_NUMBER: _l("Same ID number"),
    SAME_CREDIT_CODE: _l("Same credit code"),
    SAME_PHONE: _l("Same phone"),
    SIMILAR_NAME_ADDRESS: _l("Similar name, same address"),
    SIMILAR_NAME_DISTRICT: _l("Similar name, same district"),
}
REASON_WEIGHTS = {
    SAME_ID_NUMBER: 8,
    SAME_CREDIT_CODE: 8,
    SAME_PHONE: 4,
    SIMILAR_NAME_ADDRESS: 2,
    SIMILAR_NAME_DISTRICT: 1,
}


def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))


def live() -> ColumnElement[bool]:
    """Records still in use: not merged into another, not anonymised."""
    return and_(Client.merged_into_id.is_(None), Client.anonymised_at.is_(None))


def is_live(client: Client) -> bool:
    return client.merged_into_id is None and client.anonymised_at is None


def _plain_name(name: str | None) -> str:
    return re.sub(r"\s+", "", name or "")


def name_similarity(a: str | None, b: str | None) -> float:
    """Jaccard similarity of the names' character bigrams, spaces ignored; 0..1."""
    a, b = _plain_name(a), _plain_name(b)
    if not a or not b:
        return 0.0
    if a.casefold() == b.casefold():
        return 1.0
    return title_similarity(a, b)


def likely_duplicates(client: Client, limit: int = 10) -> list[tuple[Client, list[str]]]:
    """Live records of the same kind that look like ``client``, strongest first.

    Each comes with the reason codes (see ``REASON_LABELS``): the same ID number, credit
    code or phone (indexed equality), or a similar name in the same district or at the
    same address (candidates restricted to the same first character and place first).
    """
    found: dict[int, Client] = {}
    reasons: dict[int, list[str]] = {}

    def add(rows: Any, reason: str) -> None:
        for row in rows:
            found[row.id] = row
            codes = reasons.setdefault(row.id, [])
            if reason not in codes:
                codes.append(reason)

    base = (
        select(Client)
        .where(Client.kind == client.kind, live())
        .order_by(Client.id.desc())
        .limit(MAX_CANDIDATES)
    )
    if client.id is not None:
        base = base.where(Client.id != client.id)
    if client.id_number:
        add(db.session.scalars(base.where(Client.id_number == client.id_number)), SAME_ID_NUMBER)
    if client.credit_code:
        add(
            db.session.scalars(base.where(Client.credit_code == client.credit_code)),
            SAME_CREDIT_CODE,
        )
    if client.phone:
        add(db.session.scalars(base.where(Client.phone == client.phone)), SAME_PHONE)
    name = _plain_name(client.name)
    address = (client.address or "").strip()
    places = []
    if client.district_id is not None:
        places.append(Client.district_id == client.district_id)
    if address:
        places.append(Client.address == address)
    if name and places:
        stmt = base.where(Client.name.startswith(name[0], autoescape=True), or_(*places))
        for other in db.session.scalars(stmt):
            if name_similarity(client.name, other.name) < NAME_SIMILARITY:
                continue
            same_address = bool(address) and (other.address or "").strip() == address
            add([other], SIMILAR_NAME_ADDRESS if same_address else SIMILAR_NAME_DISTRICT)

    def strength(client_id: int) -> tuple[int, int]:
        return (-sum(REASON_WEIGHTS[r] for r in reasons[client_id]), -client_id)

    ranked = sorted(found, key=strength)[:limit]
    return [(found[i], reasons[i]) for i in ranked]


@dataclass
class DuplicateGroup:
    """Live records of one kind sharing one identifier (an ID number, code or phone)."""

    reason: str
    kind: ClientKind
    value: str
    count: int
    clients: list[Client] = field(default_factory=list)

    @property
    def reason_label(self) -> str:
        return reason_label(self.reason)

    @property
    def masked_value(self) -> str:
        return mask_phone(self.value) if self.reason == SAME_PHONE else mask_id_number(self.value)


_GROUPED = (
    (SAME_ID_NUMBER, Client.id_number),
    (SAME_CREDIT_CODE, Client.credit_code),
    (SAME_PHONE, Client.phone),
)
GROUP_MEMBERS_SHOWN = 10


def duplicate_groups(page: int = 1, per_page: int = 20) -> Page:
    """Identifiers shared by several live records, strongest reason and biggest group first.

    One ``GROUP BY … HAVING count(*) > 1`` per indexed column, put together with UNION ALL;
    then the members of the groups on this page, one indexed query per group.
    """
    parts = [
        select(
            literal(position, Integer).label("strength"),
            Client.kind.label("kind"),
            column.label("value"),
            func.count().label("n"),
            func.min(Client.id).label("first_id"),
        )
        .where(live(), column.is_not(None), column != "")
        .group_by(Client.kind, column)
        .having(func.count() > 1)
        for position, (_reason, column) in enumerate(_GROUPED)
    ]
    groups = union_all(*parts).subquery()
    ordered = select(groups).order_by(groups.c.strength, groups.c.n.desc(), groups.c.first_id)
    counted = select(func.count()).select_from(groups)
    return paginate(ordered, page, per_page, count=counted, scalars=False).map(_group)


def _group(row) -> DuplicateGroup:
    """A group row of ``duplicate_groups`` with its first members."""
    reason, column = _GROUPED[row.strength]
    kind = ClientKind(row.kind)
    members = db.session.scalars(
        select(Client)
        .where(column == row.value, Client.kind == kind, live())
        .order_by(Client.id)
        .limit(GROUP_MEMBERS_SHOWN)
    ).all()
    return DuplicateGroup(reason, kind, row.value, row.n, list(members))


# --- showing records without their full personal data ----------------------------------


def mask_email(value: str | None) -> str:
    """``zhang.san@example.org`` → ``z***@example.org``."""
    if not value:
        return ""
    local, _at, domain = value.strip().partition("@")
    if not domain:
        return mask_id_number(value)
    return f"{local[:1]}***@{domain}"


def mask_address(value: str | None) -> str:
    """The first part of an address (city, district), the rest starred."""
    if not value:
        return ""
    value = value.strip()
    keep = min(6, len(value) // 2)
    return f"{value[:keep]}****"


# The fields a merge fills on the survivor when its own are empty, in display order.
FILLED_FIELDS = (
    "phone",
    "email",
    "id_number",
    "credit_code",
    "contact_person",
    "address",
    "district_id",
    "industry",
    "size_tier",
)
FIELD_LABELS = {
    "name": _l("Name"),
    "kind": _l("Kind of client"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "id_number": _l("Resident ID number"),
    "credit_code": _l("Unified social credit code"),
    "contact_person": _l("Contact person"),
    "address": _l("Address"),
    "district_id": _l("District"),
    "industry": _l("Industry"),
    "size_tier": _l("Size"),
    "case_count": _l("Requests made"),
    "created_at": _l("Record created"),
    "flags": _l("Vulnerable groups"),
    "tags": _l("Tags"),
}
_MASKS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "credit_code": mask_id_number,
    "email": mask_email,
    "address": mask_address,
}


def masked(name: str, value: Any) -> str:
    """A field's value as it may be shown on a page: personal data masked."""
    if value is None or value == "" or value == []:
        return ""
    if name in _MASKS:
        return _MASKS[name](str(value))
    return str(value)


def _district_name(district_id: int | None) -> str:
    if district_id is None:
        return ""
    district = db.session.get(District, district_id)
    return district.name if district is not None else f"#{district_id}"


def _size_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(SIZE_TIER_LABELS[SizeTier(value)])
    except ValueError:
        return value


def flag_label(value: str) -> str:
    try:
        return VulnerableGroup(value).label
    except ValueError:
        return value


def shown(name: str, value: Any) -> str:
    """A raw field value (as stored on a record or in a snapshot), masked and labelled."""
    if name == "district_id":
        return _district_name(value)
    if name == "size_tier":
        return _size_label(value.value if isinstance(value, SizeTier) else value)
    if name == "kind":
        try:
            return ClientKind(value).label
        except ValueError:
            return str(value)
    return masked(name, value)


@dataclass
class CompareRow:
    label: str
    survivor: str
    merged: str
    result: str
    filled: bool  # the survivor's empty field takes the merged record's value


def compare(survivor: Client, merged: Client) -> list[CompareRow]:
    """The two records side by side, masked, and what the survivor will hold afterwards."""
    rows = [
        CompareRow(str(FIELD_LABELS["name"]), survivor.name, merged.name, survivor.name, False),
        CompareRow(
            str(FIELD_LABELS["kind"]),
            survivor.kind.label,
            merged.kind.label,
            survivor.kind.label,
            False,
        ),
    ]
    for name in FILLED_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if _empty(mine) and _empty(theirs):
            continue
        filled = _empty(mine) and not _empty(theirs)
        rows.append(
            CompareRow(
                str(FIELD_LABELS[name]),
                shown(name, mine),
                shown(name, theirs),
                shown(name, theirs if filled else mine),
                filled,
            )
        )
    rows.append(
        CompareRow(
            str(FIELD_LABELS["case_count"]),
            str(survivor.case_count),
            str(merged.case_count),
            str(survivor.case_count + merged.case_count),
            False,
        )
    )
    return rows


def snapshot_rows(merge: ClientMerge) -> list[tuple[str, str]]:
    """The merged record as it was, for the history page: labels and masked values."""
    data = merge_snapshot(merge)
    record = data.get("record", {})
    rows = []
    for name in ("name", "kind", *FILLED_FIELDS, "case_count", "created_at"):
        value = record.get(name)
        text = _shown_date(value) if name == "created_at" else shown(name, value)
        if text:
            rows.append((str(FIELD_LABELS[name]), text))
    if data.get("flags"):
        rows.append((str(FIELD_LABELS["flags"]), ", ".join(flag_label(f) for f in data["flags"])))
    if data.get("tags"):
        rows.append((str(FIELD_LABELS["tags"]), ", ".join(data["tags"])))
    return rows


def _shown_date(value: Any) -> str:
    if not value:
        return ""
    try:
        return format_date(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def merge_snapshot(merge: ClientMerge) -> dict[str, Any]:
    try:
        data = json.loads(merge.snapshot or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- merging ------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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
    case_numbers = list(
        db.session.scalars(select(Case.number).where(Case.client_id == merged.id).order_by(Case.id))
    )
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

    moved_cases = _move(Case, Case.client_id, merged.id, survivor.id)
    moved_contacts = _move(ContactLog, ContactLog.client_id, merged.id, survivor.id)
    moved_accounts = _move(User, User.client_id, merged.id, survivor.id)
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
        if _empty(getattr(survivor, name)) and not _empty(getattr(merged, name)):
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


def merge_history(client: Client) -> list[ClientMerge]:
    """Merges that made this record, or that it went into, newest first.

    Includes the merges of records that were themselves merged into this one earlier.
    """
    absorbed = select(Client.id).where(Client.merged_into_id == client.id)
    stmt = (
        select(ClientMerge)
        .where(
            or_(
                ClientMerge.survivor_id == client.id,
                ClientMerge.merged_id == client.id,
                ClientMerge.survivor_id.in_(absorbed),
            )
        )
        .order_by(ClientMerge.created_at.desc(), ClientMerge.id.desc())
        .limit(200)
    )
    return list(db.session.scalars(stmt))


@dataclass
class HistoryEntry:
    """One merge as the history page shows it: nothing unmasked."""

    merge: ClientMerge
    survivor: Client | None
    merged_name: str
    snapshot: list[tuple[str, str]]
    filled: list[str]
    cases: list[str]
    flags: list[str]
    tags: list[str]
    reveal_logs: int
    deletion_requests: int


def history_entries(client: Client) -> list[HistoryEntry]:
    entries = []
    for merge in merge_history(client):
        data = merge_snapshot(merge)
        moved = data.get("moved", {}) if isinstance(data.get("moved"), dict) else {}
        entries.append(
            HistoryEntry(
                merge=merge,
                survivor=db.session.get(Client, merge.survivor_id),
                merged_name=str(data.get("record", {}).get("name") or ""),
                snapshot=snapshot_rows(merge),
                filled=[str(FIELD_LABELS[f]) for f in data.get("filled", []) if f in FIELD_LABELS],
                cases=[str(n) for n in moved.get("cases", [])],
                flags=[flag_label(str(f)) for f in moved.get("flags", [])],
                tags=[str(t) for t in moved.get("tags", [])],
                reveal_logs=int(moved.get("reveal_logs") or 0),
                deletion_requests=int(moved.get("deletion_requests") or 0),
            )
        )
    return entries
