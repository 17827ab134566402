"""Writing checked rows in bulk: clients, case numbers, cases, replies, ratings, the change
feed and the daily totals, a chunk at a time, with a fixed number of statements per chunk.

ORM bulk inserts (``insert(Case)`` with a list of dicts) skip the mapper and flush events
that keep the change feed and ``daily_case_totals`` for single filings, so this module
records both itself: ``record_changes`` for the new rows, one multi-row upsert for the
totals. ``undo`` takes a failed run's rows back out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cases import deadlines
from cases.calendar import load_calendar
from cases.imports.rows import Node, Reference, Row
from cases.models import Case, CaseNumberCounter, CaseReply
from cases.reports.flows import count_cases
from cases.reports.totals import add_counts
from cases.satisfaction.models import Rating
from cases.satisfaction.tokens import new_nonce
from cases.satisfaction.vocabulary import RatingStatus
from cases.vocabulary import CaseStatus
from citizens.models import Client, ClientKind
from portal.changes import DELETE, INSERT, UPDATE, record_changes
from portal.db import db
from portal.i18n import pinyin_key

# Core tables: one statement per batch (the ORM splits a batch wherever a value is NULL).
CLIENTS, REPLIES, RATINGS = Client.__table__, CaseReply.__table__, Rating.__table__
# Every case dict has every key: the ORM sends rows with the same keys in one batch.
CLOCK_KEYS = dict.fromkeys(("dispatched_at", "sign_due_at", "reply_due_at", "due_at",
                            "due_soon_at", "signed_at", "paused_at", "replied_at", "closed_at"))


@dataclass
class Written:
    """What this run wrote, so a failure can take it back (``undo``)."""

    cases: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    clients: list[int] = field(default_factory=list)
    client_counts: Counter = field(default_factory=Counter)
    totals: Counter = field(default_factory=Counter)


def allocate_numbers(year: int, count: int) -> list[str]:
    """``count`` consecutive tracking numbers of ``year`` with one UPDATE … RETURNING."""
    bump = (update(CaseNumberCounter).where(CaseNumberCounter.year == year)
            .values(last_value=CaseNumberCounter.last_value + count)
            .returning(CaseNumberCounter.last_value)
            .execution_options(synchronize_session=False))
    last = db.session.execute(bump).scalar_one_or_none()
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(CaseNumberCounter).values(year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction made this year's row first
        last = db.session.execute(bump).scalar_one()
    return [f"{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


def match_clients(rows: list[Row], placeholder_id: int, written: Written) -> list[int]:
    """Each row's client id: found by ID number, else by phone (as the clerk's search
    does), else made (one per name and phone in the chunk); no person: the placeholder."""
    phones = {r.client[1] for r in rows if r.client and r.client[1]}
    idents = {r.client[2] for r in rows if r.client and r.client[2]}
    by_phone: dict[str, int] = {}
    by_ident: dict[str, int] = {}
    live = (Client.merged_into_id.is_(None), Client.anonymised_at.is_(None))
    if phones or idents:
        stmt = select(Client.id, Client.phone, Client.id_number).where(*live).where(
            Client.phone.in_(phones) | Client.id_number.in_(idents)).order_by(Client.id)
        for cid, phone, ident in db.session.execute(stmt):
            if phone:
                by_phone.setdefault(phone, cid)
            if ident:
                by_ident.setdefault(ident, cid)
    wanted: dict[tuple, dict] = {}
    for row in rows:
        if row.client is None:
            continue
        name, phone, ident = row.client
        if (ident and ident in by_ident) or (phone and phone in by_phone):
            continue
        wanted.setdefault(row.client, {
            "kind": ClientKind.CITIZEN, "name": name, "sort_key": pinyin_key(name),
            "phone": phone, "id_number": ident, "case_count": 0, "locale": "zh_CN",
            "notify_by_email": False, "notify_by_sms": False,
        })
    made: dict[tuple, int] = {}
    if wanted:
        keys = list(wanted)
        # RETURNING in batches, matched by value (no order asked: SQLite would go row by row)
        returned = db.session.execute(
            insert(CLIENTS).returning(CLIENTS.c.id, CLIENTS.c.name, CLIENTS.c.phone,
                                     CLIENTS.c.id_number),
            [wanted[k] for k in keys]).all()
        made = {(name, phone, ident): cid for cid, name, phone, ident in returned}
        ids = [cid for cid, *_rest in returned]
        written.clients.extend(ids)
        record_changes("client", ids, INSERT)
    result = []
    for row in rows:
        if row.client is None:
            result.append(placeholder_id)
            continue
        name, phone, ident = row.client
        result.append(by_ident.get(ident or "") or by_phone.get(phone or "") or made[row.client])
    return result


def _clock(row: Row, node: Node, values: dict) -> None:
    """Deadlines and step times consistent with the state (history runs no clock)."""
    at, status = row.filed_at, row.status
    if status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING):
        calendar = load_calendar()
        sign_due = calendar.add(at, *node.sign)
        reply_due = calendar.add(at, *node.reply)
        values.update(dispatched_at=at, sign_due_at=sign_due, reply_due_at=reply_due,
                      departments_passed=1)
        if status == CaseStatus.DISPATCHED:
            values.update(due_at=sign_due, due_soon_at=deadlines.due_soon_at(sign_due, at))
        elif status == CaseStatus.IN_PROGRESS:
            values.update(signed_at=at, due_at=reply_due,
                          due_soon_at=deadlines.due_soon_at(reply_due, at))
        else:
            values.update(signed_at=at, paused_at=at)
        return
    if status in (CaseStatus.REPLIED, CaseStatus.CLOSED):
        values["replied_at"] = row.closed_at or at
    if status in (CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN):
        values["closed_at"] = row.closed_at or at
    if row.department_id is not None and status in (CaseStatus.REPLIED, CaseStatus.CLOSED):
        values.update(dispatched_at=at, signed_at=at, departments_passed=1)


def write_chunk(rows: list[Row], import_id: int, ref: Reference, placeholders: tuple[int, int],
                written: Written) -> None:
    """Insert one chunk of rows and everything that follows them (a few statements)."""
    from cases.reports.totals import local_day

    client_id, district_id = placeholders
    clients = match_clients(rows, client_id, written)
    by_year: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_year[row.filed_at.astimezone(ref.zone).year].append(i)
    numbers: list[str] = [""] * len(rows)
    for year, indexes in sorted(by_year.items()):
        for i, number in zip(indexes, allocate_numbers(year, len(indexes)), strict=True):
            numbers[i] = number
    dicts = []
    for row, client, number in zip(rows, clients, numbers, strict=True):
        node = ref.categories[row.path]
        values = {
            "number": number, "type": row.type, "channel": row.channel, "status": row.status,
            "title": row.title, "description": row.description, "category_id": node.id,
            "district_id": row.district_id or district_id, "client_id": client,
            "department_id": row.department_id, "created_at": row.filed_at,
            "updated_at": row.closed_at or row.filed_at, "import_id": import_id,
            "import_key": row.key, "version": 1, "departments_passed": 0, **CLOCK_KEYS,
        }
        _clock(row, node, values)
        dicts.append(values)
    # A plain executemany, then the ids read back by key: psycopg re-parses every long
    # multi-row INSERT … RETURNING, which made PostgreSQL several times slower.
    table = Case.__table__
    db.session.execute(insert(table), dicts)
    by_key = dict(db.session.execute(select(table.c.import_key, table.c.id).where(
        table.c.import_key.in_([values["import_key"] for values in dicts]))).all())
    ids = [by_key[values["import_key"]] for values in dicts]
    written.cases.extend(ids)
    record_changes("case", ids, INSERT)
    replied = [(case_id, row, values) for case_id, row, values in zip(ids, rows, dicts,
                                                                      strict=True) if row.reply]
    reply_of: dict[int, int] = {}
    if replied:
        db.session.execute(insert(REPLIES), [
            {"case_id": case_id, "body": row.reply, "is_public": True,
             "created_at": values.get("replied_at") or row.filed_at}
            for case_id, row, values in replied])
        reply_of = dict(db.session.execute(select(REPLIES.c.case_id, REPLIES.c.id).where(
            REPLIES.c.case_id.in_([case_id for case_id, _row, _values in replied]))).all())
        reply_ids = list(reply_of.values())
        written.replies.extend(reply_ids)
        record_changes("case_reply", reply_ids, INSERT)
    _ratings(ids, rows, dicts, reply_of)
    totals: Counter = Counter()
    for values in dicts:
        totals[(local_day(values["created_at"]), values["category_id"], values["district_id"],
                values["channel"].value, values["type"].value)] += 1
    add_totals(totals)
    count_cases(ids)  # the reports' daily flows (Core inserts bypass their events)
    written.totals.update(totals)
    counts = Counter(clients)
    add_client_counts(counts)
    written.client_counts.update(counts)


def _ratings(ids: list[int], rows: list[Row], dicts: list[dict], replies: dict[int, int]) -> None:
    wanted = []
    for case_id, row, values in zip(ids, rows, dicts, strict=True):
        if row.rating is None:
            continue
        at: datetime = values.get("replied_at") or row.filed_at
        rated = values.get("closed_at") or at
        wanted.append({
            "case_id": case_id, "reply_id": replies.get(case_id), "client_id": values["client_id"],
            "department_id": row.department_id, "status": RatingStatus.RATED, "nonce": new_nonce(),
            "requested_at": at, "link_expires_at": at, "level": row.rating, "rated_at": rated,
            "created_at": at, "updated_at": rated,
        })
    if wanted:
        db.session.execute(insert(RATINGS), wanted)


def add_totals(counts: Counter, sign: int = 1) -> None:
    """Add ``counts`` ({(day, category, district, channel, type): n}) to the daily and
    monthly totals: one multi-row upsert each, as ``cases.reports.totals.add`` for one case."""
    add_counts(db.session.connection(), {key: sign * n for key, n in counts.items()})


def add_client_counts(counts: Counter, sign: int = 1) -> None:
    """Each touched client's ``case_count`` grows by its new cases (one executemany)."""
    if not counts:
        return
    db.session.execute(
        update(CLIENTS).where(CLIENTS.c.id == bindparam("cid"))
        .values(case_count=CLIENTS.c.case_count + bindparam("n")),
        [{"cid": cid, "n": sign * n} for cid, n in counts.items()])
    record_changes("client", list(counts), UPDATE)


def _chunks(ids: list[int], size: int = 2000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def undo(written: Written) -> None:
    """Take a failed run's committed rows back out (the caller commits)."""
    count_cases(written.cases, -1)
    for part in _chunks(written.cases):
        for model in (Rating, CaseReply):
            db.session.execute(delete(model).where(model.case_id.in_(part))
                               .execution_options(synchronize_session=False))
        db.session.execute(delete(Case).where(Case.id.in_(part))
                           .execution_options(synchronize_session=False))
    record_changes("case_reply", written.replies, DELETE)
    record_changes("case", written.cases, DELETE)
    add_totals(written.totals, -1)
    add_client_counts(written.client_counts, -1)
    for part in _chunks(written.clients):
        db.session.execute(delete(Client).where(Client.id.in_(part))
                           .execution_options(synchronize_session=False))
    record_changes("client", written.clients, DELETE)
