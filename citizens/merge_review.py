"""What staff see of a merge: the two records side by side before, the history after.

Nothing is shown unmasked: phones, ID numbers, e-mail addresses and addresses are
starred (``masked``), on the comparison page and in the history alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from citizens.models import (
    SIZE_TIER_LABELS,
    Client,
    ClientKind,
    ClientMerge,
    SizeTier,
    VulnerableGroup,
)
from portal.db import db
from portal.models import District
from portal.privacy import mask_id_number, mask_phone


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
        if is_empty(mine) and is_empty(theirs):
            continue
        filled = is_empty(mine) and not is_empty(theirs)
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



def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())



# --- the history ----------------------------------------------------------------------


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

