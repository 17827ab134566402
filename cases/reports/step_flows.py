"""Daily flows of the timeline: the workload's steps and the response rate, as sums.

The workload counts **cases** with a step of a kind in the period (sent back twice in a
month counts once), which does not add up day by day. It does with one more day per row:
each case's steps of a kind and row are kept once per local day, and each such day also
holds ``since``, the case's previous day with that step and row (the day itself for the
first). The cases with the step in ``[first, last]`` are then the rows of those days whose
``since`` is the day itself or before ``first``: exactly one per case, its first day in
the period. The rows live in ``daily_case_flows`` beside the cases' own columns
(``flows.py``) under their own ``fact`` names (``STEP_FACTS``).

Which row a step counts in follows ``figures_workload.step_key`` (docs/REPORTS.md): the
department dispatched to, the actor's department (or the actor, by staff), the case's
department or assignee of today for a send-back, the previous holder for a transfer, the
case's category or district of today. ``responded`` is a dispatch the department signed
for by the case's sign-for deadline (``figures_rates.signed_in_time``); the ``city`` rows
(key 0) hold the monthly report's answers at intake and hand-overs.

They follow the session: before a flush the touched cases' rows are computed from the
database as it is, after it again, and the difference is upserted. Touched: a new, changed
or removed timeline line, a case whose department, assignee, category, district or
sign-for deadline changes, a staff member who changes department (their steps move).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import Select, event, func, inspect, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from cases.models import Case, CaseEvent
from cases.reports import timings
from cases.reports.flows import Row, add, take_pending
from cases.reports.models import DailyCaseFlow
from cases.reports.periods import Period
from cases.reports.totals import local_day
from portal.models import User

DISPATCHES = ("dispatch", "route", "transfer")
ACTIONS = (*DISPATCHES, "sign_for", "reply", "return", "extension", "redo", "answer")
STEP_FACTS = ("received", "signed", "replied", "returned", "extensions", "redone",
              "transfers", "responded", "at_intake", "handed")
BY_ACTION = {"sign_for": "signed", "reply": "replied", "return": "returned",
             "extension": "extensions"}
CASE_COLUMNS = ("department_id", "assignee_id", "category_id", "district_id", "sign_due_at")
# Read for a case: its keys and deadline (steps), and what its kept durations need.
READ_COLUMNS = (*CASE_COLUMNS, "status", "closed_at", "created_at", "replied_at")
Step = tuple[int, str, datetime, int | None, dict | None]  # id, action, when, actor, details


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _department_of(details: dict | None) -> int | None:
    value = (details or {}).get("department")
    return int(value) if value is not None else None


def _occurrences(case: dict, steps: list[Step], departments: dict) -> Iterable[tuple]:
    """``(dim, fact, key, moment)`` of each step as the workload and the rates count it."""
    last_dispatched = last_signer = None
    for step_id, action, moment, actor, details in steps:
        actor_department = departments.get(actor)
        if action in DISPATCHES:
            sent_to = _department_of(details)
            yield "department", "received", sent_to, moment
            if action != "transfer":
                yield "city", "handed", 0, moment
            if _responded(case, steps, step_id, sent_to, departments):
                yield "department", "responded", sent_to, moment
            if action == "transfer":
                yield "department", "transfers", last_dispatched, moment
                yield "staff", "transfers", last_signer, moment
        elif action == "answer":
            yield "city", "at_intake", 0, moment
        elif action == "redo":
            yield "department", "redone", case["department_id"], moment
            yield "staff", "redone", case["assignee_id"], moment
        else:
            fact = BY_ACTION[action]
            yield "department", fact, actor_department, moment
            yield "staff", fact, actor, moment
            if action == "sign_for":
                yield "staff", "received", actor, moment
        if action != "answer" and action not in ("dispatch", "route"):
            for dim in ("category", "district"):
                yield dim, ("transfers" if action == "transfer" else
                            "redone" if action == "redo" else BY_ACTION[action]), \
                    case[f"{dim}_id"], moment
        if action in DISPATCHES:
            last_dispatched = _department_of(details)
        elif action == "sign_for":
            last_signer = actor


def _responded(case: dict, steps: list[Step], dispatch_id: int, department: int | None,
               departments: dict) -> bool:
    due = case["sign_due_at"]
    if department is None or due is None:
        return False
    return any(action == "sign_for" and step_id > dispatch_id and _aware(moment) <= due
               and actor is not None and departments.get(actor) == department
               for step_id, action, moment, actor, _details in steps)


def step_facts(case: dict, steps: list[Step], departments: dict) -> Counter[Row]:
    """The rows one case's timeline counts in (``steps`` in id order)."""
    days: dict[tuple, set[date]] = defaultdict(set)
    case = {**case, "sign_due_at": case["sign_due_at"] and _aware(case["sign_due_at"])}
    for dim, fact, key, moment in _occurrences(case, steps, departments):
        if key is not None:
            days[(dim, fact, key)].add(local_day(_aware(moment)))
    found: Counter[Row] = Counter()
    for (dim, fact, key), seen in days.items():
        previous = None
        for day in sorted(seen):
            found[(dim, day, key, fact, previous or day)] += 1
            previous = day
    return found


def _read(connection: Connection, case_ids: Iterable[int]) -> Iterator[tuple]:
    """``(case_id, case, steps, departments)`` of these cases, from the database now."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), 1000):
        part = ids[start:start + 1000]
        cases = {row[0]: dict(zip(READ_COLUMNS, row[1:], strict=True))
                 for row in connection.execute(
                     select(Case.id, *(getattr(Case, c) for c in READ_COLUMNS))
                     .where(Case.id.in_(part)))}
        steps: dict[int, list[Step]] = defaultdict(list)
        for case_id, *step in connection.execute(
                select(CaseEvent.case_id, CaseEvent.id, CaseEvent.action,
                       CaseEvent.created_at, CaseEvent.actor_id, CaseEvent.details)
                .where(CaseEvent.case_id.in_(part), CaseEvent.action.in_(ACTIONS))
                .order_by(CaseEvent.case_id, CaseEvent.id)):
            steps[case_id].append(tuple(step))
        actors = {s[3] for found_steps in steps.values() for s in found_steps} - {None}
        departments = {user_id: department for user_id, department in connection.execute(
            select(User.id, User.department_id).where(User.id.in_(actors)))} if actors else {}
        for case_id, case in cases.items():
            yield case_id, case, steps.get(case_id, []), departments


def facts_of_cases(connection: Connection, case_ids: Iterable[int],
                   durations: list | None = None) -> Counter[Row]:
    """The rows of these cases' timelines, read from the database as it is now; their
    kept durations (``timings``) are appended to ``durations`` when given."""
    found: Counter[Row] = Counter()
    for case_id, case, steps, departments in _read(connection, case_ids):
        if steps:
            found.update(step_facts(case, steps, departments))
        if durations is not None:
            durations += timings.duration_rows(case_id, case, steps, departments)
    return found


def live_step_flows(connection: Connection, durations: list | None = None) -> Counter[Row]:
    """Every timeline row computed from the database now (rebuilds, tests); with
    ``durations``, every kept duration too (appended)."""
    if durations is None:
        ids = list(connection.scalars(select(CaseEvent.case_id).where(
            CaseEvent.action.in_(ACTIONS)).distinct()))
    else:
        ids = list(connection.scalars(select(Case.id)))
    found: Counter[Row] = Counter()
    for start in range(0, len(ids), 20000):
        found.update(facts_of_cases(connection, ids[start:start + 20000], durations))
    return found


# --- following the session ---------------------------------------------------------------


def _touched(session: Session) -> tuple[set[int], list, set[int] | None]:
    """The cases whose rows may change in this flush (known ids), the new cases and
    timeline lines (ids to come), and the cases whose existing lines change (None: a
    staff member changed department, every case is to be read again)."""
    ids: set[int] = set()
    new_steps: list = []  # new timeline lines and new cases: their ids come with the flush
    rewritten: set[int] | None = set()
    for obj in session.new:
        if isinstance(obj, Case):
            new_steps.append(obj)
        elif isinstance(obj, CaseEvent) and obj.action in ACTIONS:
            new_steps.append(obj)
            case_id = obj.case_id or (obj.case.id if obj.case is not None else None)
            if case_id is not None:
                ids.add(case_id)
    for obj in (*session.dirty, *session.deleted):
        state = inspect(obj)
        if isinstance(obj, CaseEvent):
            ids.add(obj.case_id)
            if rewritten is not None:
                rewritten.add(obj.case_id)
        elif isinstance(obj, Case) and obj.id is not None and (
                obj in session.deleted
                or any(state.attrs[c].history.has_changes() for c in READ_COLUMNS)):
            ids.add(obj.id)
        elif isinstance(obj, User) and obj.id is not None and (
                state.attrs["department_id"].history.has_changes()):
            ids.update(session.connection().scalars(
                select(CaseEvent.case_id).where(CaseEvent.actor_id == obj.id).distinct()))
            rewritten = None
    return ids, new_steps, rewritten


# What this transaction's flushes left in the tables for each case they counted: its rows
# (``step_facts``) and kept durations, and what they were computed from (the case's
# columns, its steps, its actors' departments). A later flush of the same case starts from
# these instead of reading the case again (its "before" is the earlier flush's "after":
# nothing else writes them in between but ``flows.recounted`` and ``count_cases``, which
# call ``forget``), and when it only inserts the case or timeline lines, or sets the
# case's columns, its "after" is computed from what it wrote onto them (``_written``).
# Filing a case flushes it twice (the case, then its routing): no read of the case, its
# timeline or its durations is left, where each flush read them after (and the second
# before) it, and deleted the durations it had not written.
_KNOWN = "report_step_flows.known"  # session.info: (root transaction, {id: Known}, {id})
KNOWN_MOST = 2000  # cases kept; a transaction that writes more reads them again


class Known(NamedTuple):
    """One case as this transaction's last flush left it."""

    facts: Counter
    durations: list
    case: dict | None  # ``READ_COLUMNS``; None: not kept (a removed case: read again)
    steps: list
    departments: dict


def _held(session: Session) -> tuple:
    root = session.get_transaction()
    held = session.info.get(_KNOWN)
    if held is None or held[0] is not root:  # a new transaction: nothing known yet
        held = (root, {}, set())
        session.info[_KNOWN] = held
    return held


def _known(session: Session) -> dict[int, Known]:
    return _held(session)[1]


def _columns(obj: Case, inserted: bool) -> dict | None:
    """The case's ``READ_COLUMNS`` as the session holds them after the flush, or None
    where one is not held (expired, or never loaded: read the case instead). A case
    inserted in this transaction holds only the columns it was given: the others were
    inserted as NULL (none of these has a server default)."""
    state = inspect(obj)
    columns = {}
    for name in READ_COLUMNS:
        if name in state.dict:
            columns[name] = state.dict[name]
        elif inserted and name not in state.expired_attributes:
            columns[name] = None
        else:
            return None
    return columns


def forget(session: Session) -> None:
    """Drop what is known of this transaction's cases (after a Core statement changed
    cases or timelines, or a savepoint ended): the next flush reads them again."""
    session.info.pop(_KNOWN, None)


def _before_flush(session: Session, _context, _instances) -> None:
    ids, new_steps, rewritten = _touched(session)
    if not ids and not new_steps:
        return
    known = _known(session)
    unknown = ids - known.keys()
    before = facts_of_cases(session.connection(), unknown) if unknown else Counter()
    for case_id in ids & known.keys():
        before.update(known[case_id].facts)
    session.info["report_step_flows"] = (ids, new_steps, rewritten, before)  # this flush's


def _written(session: Session, every: set[int], new_steps: list,
             rewritten: set[int] | None) -> dict[int, tuple]:
    """``(case, steps, departments)`` after this flush of the cases it inserted or gave
    new timeline lines or new column values only, from the session's objects and what is
    known of them (as ``_read`` would find them); the others are left to ``_read``."""
    if rewritten is None:  # a staff member moved: their steps count elsewhere, read all
        return {}
    _root, known, inserted = _held(session)
    new_cases = {obj.id: obj for obj in new_steps if isinstance(obj, Case)}
    inserted.update(new_cases)  # cases inserted in this transaction
    lines: dict[int, list] = defaultdict(list)
    for obj in new_steps:
        if isinstance(obj, CaseEvent):
            state = inspect(obj)
            if obj.id is None or "created_at" not in state.dict:
                rewritten.add(obj.case_id)  # not as flushed: read the case
            else:
                lines[obj.case_id].append((obj.id, obj.action, obj.created_at, obj.actor_id,
                                           obj.details))
    found: dict[int, tuple] = {}
    for case_id in every - rewritten:
        if case_id in new_cases:
            base, obj = Known(Counter(), [], {}, [], {}), new_cases[case_id]
        else:
            base = known.get(case_id)
            obj = session.identity_map.get(identity_key(Case, case_id))
        if base is None or base.case is None or obj is None or obj in session.deleted:
            continue
        columns = _columns(obj, case_id in inserted)
        if columns is None:
            continue
        steps = sorted([*base.steps, *lines.get(case_id, [])], key=lambda step: step[0])
        found[case_id] = (columns, steps, base.departments)
    actors = {step[3] for _case, steps, departments in found.values() for step in steps
              if step[3] is not None and step[3] not in departments}
    if actors:  # a new actor on a case: their department, as ``_read`` reads it
        read = dict(session.connection().execute(
            select(User.id, User.department_id).where(User.id.in_(actors))).all())
        found = {case_id: (case, steps, {**departments, **read})
                 for case_id, (case, steps, departments) in found.items()}
    return found


def _after_flush(session: Session, _context) -> None:
    pending = session.info.pop("report_step_flows", None)
    if pending is None:
        return
    ids, new_steps, rewritten, before = pending
    every = ids | {getattr(obj, "case_id", None) or obj.id for obj in new_steps} - {None}
    known = _known(session)
    if len(known) + len(every) > KNOWN_MOST:  # a long transaction (a demo city, a script)
        forget(session)
        known = _known(session)
    # Durations in the table now: as known, none for a case this flush inserted.
    kept_before = {case_id: known[case_id].durations if case_id in known else None
                   for case_id in every}
    for obj in new_steps:
        if isinstance(obj, Case) and obj.id is not None:
            kept_before[obj.id] = []
    written = _written(session, every, new_steps, rewritten)
    change: Counter[Row] = Counter()
    for case_id in every:  # a removed case (not found below) counts nowhere
        known[case_id] = Known(Counter(), [], None, [], {})
    for case_id, case, steps, departments in (
            *((case_id, *found) for case_id, found in written.items()),
            *_read(session.connection(), every - written.keys())):
        facts = step_facts(case, steps, departments) if steps else Counter()
        durations = timings.duration_rows(case_id, case, steps, departments)
        known[case_id] = Known(facts, durations, case, steps, departments)
        change.update(facts)
    change.subtract(before)
    change.update(take_pending(session))  # the cases' own columns: one upsert for both
    add(session.connection(), change)
    timings.replace_known(session.connection(),
                          {case_id: known[case_id].durations for case_id in every},
                          kept_before)


def _savepoint_ended(session: Session, transaction) -> None:
    if transaction.nested:  # rolled back, its writes are gone; released: read again too
        forget(session)


def follow_timeline() -> None:
    """Keep the timeline's rows as the session writes (once per process)."""
    for name, listener in (("before_flush", _before_flush), ("after_flush", _after_flush),
                           ("after_transaction_end", _savepoint_ended)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# --- reading ---------------------------------------------------------------------------


def step_counts(dim: str, period: Period, facts: Iterable[str]) -> Select:
    """``(key, fact, cases)``: the cases with a step of each kind in ``period`` by ``dim``
    (each case once: the rows of its first day with the step in the period)."""
    f = DailyCaseFlow
    return (
        select(f.key, f.fact, func.sum(f.n))
        .where(f.dim == dim, f.fact.in_(list(facts)), f.day >= period.first,
               f.day <= period.last, or_(f.since == f.day, f.since < period.first))
        .group_by(f.key, f.fact)
    )
