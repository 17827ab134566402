"""The durations the workload's medians rank, kept per case (``report_durations``).

Ranking a month's sign-fors read, per sign-for, the case's last dispatch before it (a
correlated look-up) and, per closed case, its row: at a million cases those reads were most
of a workload page. Each duration is kept instead as one narrow row ordered by its later
moment, with the keys it counts under, so a period's durations are one range read.
``step_flows`` rewrites a case's rows whenever it rewrites its flows (a new timeline line,
a case moved, reclassified, closed or reopened, a signer who changed department);
``flows.rebuild_flows`` rebuilds them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from cases.reports.models import ReportDuration
from portal.db import db

DURATIONS = ReportDuration.__table__
DISPATCHES = ("dispatch", "route", "transfer")
MICROSECOND = timedelta(microseconds=1)
KEYS = {"department": ReportDuration.department_id, "staff": ReportDuration.staff_id,
        "category": ReportDuration.category_id, "district": ReportDuration.district_id}


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def duration_rows(case_id: int, case: dict, steps: list, departments: dict) -> list[dict]:
    """The case's sign-for durations (from the latest dispatch before each, by timeline
    order) and, when 办结, its closing duration; as ``figures_workload`` keys them."""
    rows = []
    dispatched = None
    for step_id, action, moment, actor, _details in steps:
        if action == "sign_for" and dispatched is not None:
            rows.append({"kind": "sign", "at": _aware(moment), "ref_id": step_id,
                         "case_id": case_id, "earlier": dispatched,
                         "micros": (_aware(moment) - dispatched) // MICROSECOND,
                         "department_id": departments.get(actor), "staff_id": actor,
                         "category_id": case["category_id"],
                         "district_id": case["district_id"]})
        if action in DISPATCHES:
            dispatched = max(filter(None, (dispatched, _aware(moment))))
    status = getattr(case["status"], "value", case["status"])
    if status == "closed" and case["closed_at"] is not None and case["created_at"] is not None:
        rows.append({"kind": "close", "at": _aware(case["closed_at"]), "ref_id": case_id,
                     "case_id": case_id, "earlier": _aware(case["created_at"]),
                     "micros": (_aware(case["closed_at"]) - _aware(case["created_at"]))
                     // MICROSECOND,
                     "department_id": case["department_id"], "staff_id": case["assignee_id"],
                     "category_id": case["category_id"], "district_id": case["district_id"]})
    return rows


def replace(connection: Connection, case_ids: Iterable[int], rows: list[dict]) -> None:
    """The cases' rows become ``rows``."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), 1000):
        connection.execute(delete(ReportDuration).where(
            ReportDuration.case_id.in_(ids[start:start + 1000])))
    for start in range(0, len(rows), 5000):
        connection.execute(DURATIONS.insert(), rows[start:start + 5000])


def ranked(kind: str, by: str, start: datetime, end: datetime, keyed: bool,
           keep: set | None, digits: int = 2) -> tuple[dict, dict]:
    """What ``figures_common.durations`` gives, from the kept durations: each one's length
    in whole microseconds (kept when written) comes from one range read of narrow rows
    and is ranked in Python, which is cheaper than SQLite's window functions; hours as
    ``hours()`` takes them (microseconds / 10⁶ / 3600)."""
    d = ReportDuration
    query = select(KEYS[by], d.micros).where(
        d.kind == kind, d.at >= start, d.at < end)
    if keyed:
        query = query.where(KEYS[by].is_not(None))
    if keep is not None:
        query = query.where(KEYS[by].in_(keep or [-1]))
    rows = db.session.execute(query).tuples().all()
    per_key: dict = {}
    for key, micros in rows:
        per_key.setdefault(key, []).append(micros)
    pooled = [micros for _key, micros in rows]
    return ({k: _stats(v, digits) for k, v in per_key.items()}, _stats(pooled, digits))


def _stats(values: list[int], digits: int) -> dict:
    if not values:
        return {"median": None, "p90": None, "n": 0}
    values.sort()
    n = len(values)
    low, high, nine = (n + 1) // 2, (n + 2) // 2, (9 * n + 9) // 10

    def hours(micros: int) -> float:
        return micros / 10**6 / 3600

    middle = (hours(values[low - 1]) + hours(values[high - 1])) / 2
    return {"median": round(middle, digits), "p90": round(hours(values[nine - 1]), digits),
            "n": n}
