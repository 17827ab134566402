"""Read-side queries of the clients room: the staff list and the 360° page, scoped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.sql.elements import False_

from cases.models import Attachment, Case, CaseReply
from cases.visibility import reporter_hidden, reporter_known
from citizens.identifiers import is_valid_credit_code, is_valid_resident_id, normalise_id
from citizens.models import (
    FREQUENT_FROM,
    REPEAT_FROM,
    Client,
    ClientFlag,
    ClientKind,
    ClientTag,
    ContactLog,
    Engagement,
    RevealLog,
    SizeTier,
    VulnerableGroup,
)
from citizens.visibility import visible_clients
from portal.db import db
from portal.models import User
from portal.pagination import Page, paginate
from portal.validators import PHONE_RE, normalise_phone

# "Any vulnerable group" in the list's flag filter (besides each single group).
ANY_FLAG = "any"

SORTS = {
    "name": (Client.sort_key, Client.id),  # pinyin order (``portal.i18n.pinyin_key``)
    "newest": (Client.id.desc(),),
}
SORT_LABELS = {
    "name": _l("Name"),
    "newest": _l("Newest records first"),
    "cases": _l("Most requests first"),
}


# --- the list ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFilter:
    kind: ClientKind | None = None
    size_tier: SizeTier | None = None
    industry: str | None = None
    district_id: int | None = None
    flag: str | None = None  # a VulnerableGroup value, or ANY_FLAG
    engagement: Engagement | None = None
    tag: str | None = None
    q: str | None = None
    include_inactive: bool = False  # merged and anonymised records too
    sort: str = "name"

    @property
    def is_empty(self) -> bool:
        return self == ClientFilter(sort=self.sort)


def known_case_count(user: User) -> ColumnElement[int]:
    """A client's requests as ``user`` may know of them, as SQL (for sorting and filtering).

    ``case_count`` counts every request, anonymous tip-offs too; for whoever may not know
    their reporter those are subtracted (a correlated count on ``ix_cases_client_id_*``),
    so no figure, rank or engagement level betrays that a client filed one.
    """
    hidden = reporter_hidden(user)
    if isinstance(hidden, False_):
        return Client.case_count
    hidden_count = (
        select(func.count())
        .select_from(Case)
        .where(Case.client_id == Client.id, hidden)
        .correlate(Client)
        .scalar_subquery()
    )
    return Client.case_count - hidden_count


def known_case_counts(user: User, clients: Sequence[Client]) -> dict[int, int]:
    """Each client's requests as ``user`` may know of them (see ``known_case_count``).

    One grouped query per thousand clients, none for who may see every reporter.
    """
    hidden_clause = reporter_hidden(user)
    ids = [c.id for c in clients]
    hidden: dict[int, int] = {}
    if isinstance(hidden_clause, False_):
        ids = []
    for start in range(0, len(ids), 1000):  # an export: bounded IN lists
        stmt = (
            select(Case.client_id, func.count())
            .where(Case.client_id.in_(ids[start : start + 1000]), hidden_clause)
            .group_by(Case.client_id)
        )
        hidden.update({client_id: n for client_id, n in db.session.execute(stmt)})
    return {c.id: max(c.case_count - hidden.get(c.id, 0), 0) for c in clients}


def hidden_case_numbers(user: User, numbers: Sequence[str]) -> set[str]:
    """Of these case numbers, those whose reporter ``user`` may not know (merge history)."""
    if not numbers or isinstance(reporter_hidden(user), False_):
        return set()
    stmt = select(Case.number).where(Case.number.in_(list(numbers)), reporter_hidden(user))
    return set(db.session.scalars(stmt))


def engagement_clause(engagement: Engagement, count: ColumnElement[int]) -> ColumnElement[bool]:
    """Clients of one engagement level, by ``count`` (their requests as the viewer knows)."""
    if engagement == Engagement.FREQUENT:
        return count >= FREQUENT_FROM
    if engagement == Engagement.REPEAT:
        return and_(count >= REPEAT_FROM, count < FREQUENT_FROM)
    return count < REPEAT_FROM


def search_clause(query: str) -> ColumnElement[bool]:
    """A phone number, ID number or credit code found exactly; anything else in the name.

    Told apart by their shape (a phone number's pattern, an identifier's check character),
    so an identifier is looked up in its index instead of by scanning every name.
    """
    phone = normalise_phone(query)
    if PHONE_RE.match(phone):
        return Client.phone == phone
    ident = normalise_id(query)
    if is_valid_resident_id(ident) or is_valid_credit_code(ident):
        return or_(Client.id_number == ident, Client.credit_code == ident)
    return Client.name.contains(query, autoescape=True)


def client_list_query(user: User, filters: ClientFilter, *, for_count: bool = False) -> Select:
    """The statement behind ``/clients``: filtered, scoped to what ``user`` may see
    (``citizens.visibility.visible_clients``; ``for_count`` picks its form for the total)."""
    stmt = select(Client).where(visible_clients(user, for_count=for_count))
    if not filters.include_inactive:
        stmt = stmt.where(Client.merged_into_id.is_(None), Client.anonymised_at.is_(None))
    if filters.kind:
        stmt = stmt.where(Client.kind == filters.kind)
    if filters.size_tier:
        stmt = stmt.where(Client.size_tier == filters.size_tier)
    if filters.industry:
        stmt = stmt.where(Client.industry.contains(filters.industry, autoescape=True))
    if filters.district_id:
        stmt = stmt.where(Client.district_id == filters.district_id)
    # Flags and tags are rare: semi-joins read them from their own indexes.
    if filters.flag == ANY_FLAG:
        stmt = stmt.where(Client.id.in_(select(ClientFlag.client_id)))
    elif filters.flag in VulnerableGroup._value2member_map_:
        flagged = select(ClientFlag.client_id).where(
            ClientFlag.flag == VulnerableGroup(filters.flag)
        )
        stmt = stmt.where(Client.id.in_(flagged))
    if filters.engagement:
        stmt = stmt.where(engagement_clause(filters.engagement, known_case_count(user)))
    if filters.tag:
        tagged = select(ClientTag.client_id).where(ClientTag.tag == filters.tag)
        stmt = stmt.where(Client.id.in_(tagged))
    if filters.q:
        stmt = stmt.where(search_clause(filters.q))
    if for_count:
        return stmt
    stmt = stmt.options(
        joinedload(Client.district), selectinload(Client.flags), selectinload(Client.tags)
    )
    if filters.sort == "cases":
        return stmt.order_by(known_case_count(user).desc(), Client.id.desc())
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def client_list_page(user: User, filters: ClientFilter, page: int, per_page: int) -> Page:
    """One page of ``/clients`` and the total (see ``client_list_query``)."""
    counted = client_list_query(user, filters, for_count=True).with_only_columns(
        func.count(Client.id)
    )
    return paginate(client_list_query(user, filters), page, per_page, count=counted)


def tags_in_use(limit: int = 200) -> list[str]:
    """Tags in use, for the filter's suggestions (read from the tag index)."""
    stmt = select(ClientTag.tag).group_by(ClientTag.tag).order_by(ClientTag.tag).limit(limit)
    return list(db.session.scalars(stmt))


# --- the 360° page ----------------------------------------------------------------


def client_profile(client_id: int) -> Client | None:
    stmt = (
        select(Client)
        .where(Client.id == client_id)
        .options(
            joinedload(Client.district), selectinload(Client.flags), selectinload(Client.tags)
        )
    )
    return db.session.scalar(stmt)


def linked_accounts(client_id: int) -> list[User]:
    stmt = select(User).where(User.client_id == client_id).order_by(User.id)
    return list(db.session.scalars(stmt))


def client_cases_query(client_id: int, user: User) -> Select:
    """Every case of the client that ``user`` may see, newest first, in one query."""
    return (
        select(Case)
        .where(Case.client_id == client_id, reporter_known(user))
        .options(
            joinedload(Case.category),
            joinedload(Case.department),
            joinedload(Case.district),
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
    )


@dataclass(frozen=True)
class CaseCounts:
    public_replies: int = 0
    internal_notes: int = 0
    attachments: int = 0


def case_counts(case_ids: list[int]) -> dict[int, CaseCounts]:
    """Public replies, internal notes and attachments of each case, in one query."""
    if not case_ids:
        return {}

    def counted(model, *where):
        return (
            select(func.count())
            .select_from(model)
            .where(model.case_id == Case.id, *where)
            .scalar_subquery()
        )

    stmt = select(
        Case.id,
        counted(CaseReply, CaseReply.is_public.is_(True)),
        counted(CaseReply, CaseReply.is_public.is_(False)),
        counted(Attachment),
    ).where(Case.id.in_(case_ids))
    return {row[0]: CaseCounts(*row[1:]) for row in db.session.execute(stmt)}


def client_contacts_query(client_id: int, user: User) -> Select:
    """The client's contacts, newest first: those without a case, and those of visible cases.

    The join names the client's own cases only (its ``ix_cases_client_id_*`` index); a
    contact pointing elsewhere finds no case and is left out.
    """
    return (
        select(ContactLog)
        .outerjoin(Case, and_(ContactLog.case_id == Case.id, Case.client_id == client_id))
        .where(
            ContactLog.client_id == client_id,
            or_(ContactLog.case_id.is_(None), reporter_known(user)),
        )
        .options(joinedload(ContactLog.staff), contains_eager(ContactLog.case))
        .order_by(ContactLog.created_at.desc(), ContactLog.id.desc())
    )


def visible_case_by_number(client_id: int, user: User, number: str) -> Case | None:
    """One of the client's cases by number, if ``user`` sees it on the client's page."""
    stmt = select(Case).where(
        Case.client_id == client_id, Case.number == number, reporter_known(user)
    )
    return db.session.scalar(stmt)


def reveal_log(client_id: int, limit: int = 50) -> tuple[list[RevealLog], int]:
    """The newest entries of the client's access log, and how many there are in all."""
    stmt = (
        select(RevealLog)
        .where(RevealLog.client_id == client_id)
        .options(joinedload(RevealLog.user))
        .order_by(RevealLog.created_at.desc(), RevealLog.id.desc())
        .limit(limit)
    )
    total = db.session.scalar(
        select(func.count()).select_from(RevealLog).where(RevealLog.client_id == client_id)
    )
    return list(db.session.scalars(stmt)), total or 0
