"""Duplicate client records: the ones that look like one person or firm, and why.

Suggestions for one record (``likely_duplicates``) and the groups sharing an identifier
(``duplicate_groups``); merging them is ``citizens.merge``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Integer, and_, func, literal, or_, select, union_all

from cases.duplicates import title_similarity
from citizens.models import Client, ClientKind
from portal.db import db
from portal.pagination import Page, paginate
from portal.privacy import mask_id_number, mask_phone

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

