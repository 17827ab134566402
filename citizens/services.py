"""Rules for client records: finding them and creating them at the service window."""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, text

from citizens.identifiers import is_valid_credit_code, is_valid_resident_id, normalise_id
from citizens.models import Client, ClientKind
from portal.db import db
from portal.errors import DomainError
from portal.validators import PHONE_RE, normalise_phone

log = logging.getLogger(__name__)


def find_clients(query: str, limit: int = 20) -> list[Client]:
    """Clients whose name contains ``query``, or whose phone / ID number / code equals it."""
    query = (query or "").strip()
    if not query:
        return []
    phone = normalise_phone(query)
    ident = normalise_id(query)
    stmt = (
        select(Client)
        .where(
            or_(
                Client.name.contains(query, autoescape=True),
                Client.phone == phone,
                Client.id_number == ident,
                Client.credit_code == ident,
            )
        )
        .order_by(func.length(Client.name), Client.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def create_client(
    *,
    kind: ClientKind,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    id_number: str | None = None,
    credit_code: str | None = None,
    contact_person: str | None = None,
) -> Client:
    """A client record made by staff for a caller or visitor (no web account yet)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the client's name."), field="new_name")
    phone = normalise_phone(phone or "") or None
    if phone and not PHONE_RE.match(phone):
        raise DomainError(
            _("Enter a mobile number of 11 digits or a landline such as 010-12345678."),
            field="new_phone",
        )
    id_number = normalise_id(id_number or "") or None
    if id_number and not is_valid_resident_id(id_number):
        raise DomainError(
            _("This is not a valid resident ID number (check the last character)."),
            field="new_id_number",
        )
    credit_code = normalise_id(credit_code or "") or None
    if credit_code and not is_valid_credit_code(credit_code):
        raise DomainError(
            _("This is not a valid unified social credit code (check the last character)."),
            field="new_id_number",
        )
    client = Client(
        kind=kind,
        name=name,
        phone=phone,
        email=(email or "").strip() or None,
        id_number=id_number,
        credit_code=credit_code,
        contact_person=(contact_person or "").strip() or None,
    )
    db.session.add(client)
    db.session.flush()
    log.info("client %s created at intake", client.id)
    return client


def recount_cases() -> None:
    """Set every client's ``case_count`` from the cases table (after bulk loads)."""
    db.session.execute(
        text(
            "UPDATE clients SET case_count = "
            "(SELECT count(*) FROM cases WHERE cases.client_id = clients.id)"
        )
    )
