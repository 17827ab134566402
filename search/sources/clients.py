"""Client records as search documents (kind ``client``).

Searchable: the name (and a firm's contact person), the masked phone, ID number and
credit code as staff see them on the list, the district (Chinese and English), the tags.
Identifiers are never stored in clear: a full phone number, ID number or credit code is
kept only as a keyed hash (HMAC-SHA256 with ``SECRET_KEY``) in an exact field, so that a
full number typed into the search box (``exact_forms``) finds its record and nothing
in the index gives a number back. Merged-away and anonymised records are not searchable
(``documents`` leaves them out, so the indexer deletes them). ``access``: the keys of
``citizens.visibility.client_access_keys`` (the one client rule), read for a whole batch
of records in one query by ``batch_access_keys`` (the same rule, as one statement:
``tests/test_search_sources.py`` holds the two equal).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Iterator

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.models import Case, CaseAssist
from cases.visibility import CITY_KEY
from citizens.account_services import normalise_cn_phone
from citizens.identifiers import is_valid_credit_code, is_valid_resident_id, normalise_id
from citizens.models import Client
from citizens.visibility import client_access_keys
from portal.db import db
from portal.privacy import mask_id_number, mask_phone
from search.engine.types import Document

KIND = "client"
BATCH = 500
TEXT_FIELDS = ("name", "masked", "district", "tags")
EXACT_FIELDS = ("identifier",)
FILTER_FIELDS = ("kind", "district_id", "tag")
DATE_FIELDS = ("created_at",)
IDENTIFIER_FIELD = "identifier"


def identifier_hash(kind: str, value: str) -> str:
    """The keyed hash of an identifier (``kind``: phone, id) as the index keeps it."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"search:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def identifier_hashes(client: Client) -> list[str]:
    found = []
    if client.phone:
        found.append(identifier_hash("phone", client.phone))
    for value in (client.id_number, client.credit_code):
        if value:
            found.append(identifier_hash("id", normalise_id(value)))
    return found


def identifier_query(text: str) -> str | None:
    """If ``text`` is a whole phone number, ID number or credit code: its keyed hash (the
    search page then looks it up in the exact field); None for anything else."""
    text = text.strip()
    if not text or len(text) > 40:
        return None
    phone = normalise_cn_phone(text) if any(c.isdigit() for c in text) else None
    if phone:
        return identifier_hash("phone", phone)
    ident = normalise_id(text)
    if is_valid_resident_id(ident) or is_valid_credit_code(ident):
        return identifier_hash("id", ident)
    return None


def batch_access_keys(client_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """``client_access_keys`` of many records in one query: citywide staff, and the
    departments leading or assisting a case each client filed under their name."""
    named = Case.anonymous.is_(False)  # ``reporter_shown`` of department staff
    lead = select(Case.client_id, Case.department_id).where(
        Case.client_id.in_(client_ids), Case.department_id.is_not(None), named
    )
    assisted = (
        select(Case.client_id, CaseAssist.department_id)
        .join(Case, CaseAssist.case_id == Case.id)
        .where(Case.client_id.in_(client_ids), named)
    )
    departments: dict[int, set[int]] = defaultdict(set)
    for client_id, department_id in db.session.execute(lead.union(assisted)):
        departments[client_id].add(department_id)
    return {
        i: (CITY_KEY, *(f"dept:{d}" for d in sorted(departments.get(i, ()))))
        for i in client_ids
    }


def client_document(client: Client, access: tuple[str, ...] | None = None) -> Document:
    """``client``'s document (``access``: its keys when read for a batch)."""
    masked = [mask_phone(client.phone), mask_id_number(client.id_number),
              mask_id_number(client.credit_code)]
    district = client.district
    tags = [t.tag for t in client.tags]
    return Document(
        kind=KIND,
        id=client.id,
        text={
            "name": " ".join(x for x in (client.name, client.contact_person) if x),
            "masked": " ".join(m for m in masked if m),
            "district": " ".join(x for x in (district.name_zh, district.name_en) if x)
            if district else "",
            "tags": " ".join(tags),
        },
        exact={IDENTIFIER_FIELD: identifier_hashes(client)},
        filters={"kind": client.kind.value, "district_id": client.district_id, "tag": tags},
        dates={"created_at": client.created_at},
        access=access if access is not None else client_access_keys(client),
    )


class ClientSource:
    """The citizens room's records as documents of kind ``client``."""

    kind = KIND
    public_fields = TEXT_FIELDS
    text_fields = TEXT_FIELDS
    exact_fields = EXACT_FIELDS

    def exact_forms(self, word: str) -> list[str]:
        """A whole phone number, ID number or credit code typed in: its keyed hash."""
        digest = identifier_query(word)
        return [digest] if digest else []

    def affected(self, entity: str, ids: list[int]) -> Iterable[int]:
        """A record's own changes (flags and tags are recorded as ``client``), its cases'
        (who may find the record follows their departments and anonymity), and a rename
        of its district."""
        if not ids:
            return []
        if entity == "client":
            return ids
        if entity == "case":
            # A deleted case is gone from ``cases``; its client is refreshed on the next
            # change or by ``verify``.
            return set(db.session.scalars(select(Case.client_id).where(Case.id.in_(ids))))
        if entity == "district":  # a rename (search/sources/renames.py)
            return list(db.session.scalars(select(Client.id).where(Client.district_id.in_(ids))))
        return []

    def documents(self, ids: Iterable[int]) -> list[Document]:
        wanted = list(ids)
        found: list[Document] = []
        for start in range(0, len(wanted), BATCH):
            stmt = (
                select(Client)
                .where(
                    Client.id.in_(wanted[start:start + BATCH]),
                    Client.merged_into_id.is_(None),
                    Client.anonymised_at.is_(None),
                )
                .options(selectinload(Client.tags), selectinload(Client.district))
                .order_by(Client.id)
            )
            clients = list(db.session.scalars(stmt))
            keys = batch_access_keys([c.id for c in clients]) if clients else {}
            found.extend(client_document(client, keys[client.id]) for client in clients)
        return found

    def all_ids(self) -> Iterator[int]:
        last = 0
        while True:
            batch = list(db.session.scalars(
                select(Client.id)
                .where(
                    Client.id > last,
                    Client.merged_into_id.is_(None),
                    Client.anonymised_at.is_(None),
                )
                .order_by(Client.id)
                .limit(BATCH * 4)
            ))
            if not batch:
                return
            yield from batch
            last = batch[-1]


source = ClientSource()
