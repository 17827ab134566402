"""Rules for client records: finding them and creating them at the service window."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, text

from citizens.identifiers import is_valid_credit_code, is_valid_resident_id, normalise_id
from citizens.models import (
    Client,
    ClientFlag,
    ClientKind,
    ClientTag,
    ContactChannel,
    ContactLog,
    RevealLog,
    SizeTier,
    VulnerableGroup,
)
from citizens.queries import visible_case_by_number
from portal.db import db
from portal.errors import DomainError
from portal.models import District, User
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
        .order_by(func.length(Client.name), Client.sort_key, Client.id)  # closest, then pinyin
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


@dataclass(frozen=True)
class ClientDetails:
    """Who is asking, as told at a counter or by another system: enough to make a record."""

    kind: ClientKind
    name: str
    phone: str | None = None
    email: str | None = None
    identifier: str | None = None  # resident ID number (citizen) or credit code (enterprise)
    contact_person: str | None = None


def client_for_filing(client: Client | int | None, details: ClientDetails | None) -> Client:
    """The client a filing is for: the one chosen (a record or its id), else a new record.

    Used by the filing door (``cases.filing``); a new record is made as at the counter.
    """
    if isinstance(client, int):
        found = db.session.get(Client, client)
        if found is None:
            raise DomainError(_("Choose a client from the search, or give a new name."),
                              field="new_name")
        return found
    if client is not None:
        return client
    if details is None:
        raise DomainError(_("Choose a client from the search, or give a new name."),
                          field="new_name")
    kind = details.kind
    return create_client(
        kind=kind,
        name=details.name,
        phone=details.phone,
        email=details.email,
        id_number=details.identifier if kind == ClientKind.CITIZEN else None,
        credit_code=details.identifier if kind == ClientKind.ENTERPRISE else None,
        contact_person=details.contact_person,
    )


def recount_cases() -> None:
    """Set every client's ``case_count`` from the cases table (after bulk loads)."""
    db.session.execute(
        text(
            "UPDATE clients SET case_count = "
            "(SELECT count(*) FROM cases WHERE cases.client_id = clients.id)"
        )
    )


# --- the 360° page: classification, contacts, full values on purpose ---------------

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_SUMMARY_LENGTH = 2000
MAX_REASON_LENGTH = 500
# Fields shown masked until a staff member reveals them, giving a reason.
REVEALABLE_FIELDS = ("phone", "email", "id_number", "credit_code")
TAG_SEPARATORS = re.compile(r"[,，、;；\n]")


def normalise_tag(tag: str) -> str:
    """Trimmed, inner whitespace collapsed to one space, lower case (for Latin letters)."""
    return " ".join((tag or "").split()).lower()


def parse_tags(text: str | None) -> list[str]:
    """``"独居老人, 低保，Media"`` → ``["独居老人", "低保", "media"]``: normalised, unique."""
    tags: list[str] = []
    for raw in TAG_SEPARATORS.split(text or ""):
        tag = normalise_tag(raw)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def check_tags(tags: list[str]) -> None:
    if len(tags) > MAX_TAGS:
        raise DomainError(_("Give at most %(n)d tags.", n=MAX_TAGS), field="tags")
    too_long = next((t for t in tags if len(t) > MAX_TAG_LENGTH), None)
    if too_long is not None:
        raise DomainError(
            _("A tag may have at most %(n)d characters: %(tag)s", n=MAX_TAG_LENGTH, tag=too_long),
            field="tags",
        )


def update_classification(
    client: Client,
    actor: User,
    *,
    district_id: int | None,
    address: str | None,
    size_tier: SizeTier | None,
    industry: str | None,
    flags: Iterable[VulnerableGroup],
    tags: Iterable[str],
) -> None:
    """Set the client's district, address, enterprise fields, vulnerable-group flags and tags.

    Flags raise the priority of the client's *new* cases (``cases.services.file_case``);
    cases already filed keep theirs.
    """
    if district_id is not None and db.session.get(District, district_id) is None:
        raise DomainError(_("Choose a district from the list."), field="district")
    industry = " ".join((industry or "").split()) or None
    if client.kind != ClientKind.ENTERPRISE:
        if size_tier is not None:
            raise DomainError(_("Only enterprises have a size tier."), field="size_tier")
        if industry is not None:
            raise DomainError(_("Only enterprises have an industry."), field="industry")
    tags = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    check_tags(tags)
    client.district_id = district_id
    client.address = (address or "").strip() or None
    client.size_tier = size_tier
    client.industry = industry
    wanted = set(flags)
    for item in [f for f in client.flags if f.flag not in wanted]:
        client.flags.remove(item)
    have = {f.flag for f in client.flags}
    for flag in sorted(wanted - have):
        client.flags.append(ClientFlag(flag=flag))
    for item in [t for t in client.tags if t.tag not in tags]:
        client.tags.remove(item)
    have_tags = {t.tag for t in client.tags}
    for tag in tags:
        if tag not in have_tags:
            client.tags.append(ClientTag(tag=tag))
    db.session.flush()
    log.info("client %s classified by user %s", client.id, actor.id)


def add_contact(
    client: Client,
    staff: User,
    *,
    channel: ContactChannel,
    summary: str,
    case_number: str | None = None,
) -> ContactLog:
    """A contact recorded by hand: a call, a visit, a letter; optionally about one case."""
    summary = (summary or "").strip()
    if not summary:
        raise DomainError(_("Say what the contact was about."), field="summary")
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise DomainError(
            _("The summary may have at most %(n)d characters.", n=MAX_SUMMARY_LENGTH),
            field="summary",
        )
    case = None
    number = (case_number or "").strip()
    if number:
        # Only a case of this client that the staff member sees on the client's page.
        case = visible_case_by_number(client.id, staff, number)
        if case is None:
            raise DomainError(
                _("This client has no request %(number)s that you can see.", number=number),
                field="case_number",
            )
    entry = ContactLog(
        client_id=client.id,
        channel=channel,
        staff_id=staff.id,
        case_id=case.id if case else None,
        summary=summary,
        automatic=False,
    )
    db.session.add(entry)
    db.session.flush()
    log.info("contact %s with client %s recorded by user %s", entry.id, client.id, staff.id)
    return entry


def reveal_field(client: Client, user: User, field: str, reason: str) -> str:
    """The full value of a masked field, written to the client's access log first.

    Only ids and the field's name go to the application log, never the value.
    """
    if field not in REVEALABLE_FIELDS:
        raise DomainError(_("Choose what to show."), field="field")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason why you need the full value."), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("The reason may have at most %(n)d characters.", n=MAX_REASON_LENGTH),
            field="reason",
        )
    value = getattr(client, field)
    if client.anonymised_at is not None or not value:
        raise DomainError(_("This client has no such value on record."), field="field")
    db.session.add(RevealLog(client_id=client.id, user_id=user.id, field=field, reason=reason))
    db.session.flush()
    log.info("user %s revealed the %s of client %s", user.id, field, client.id)
    return value
