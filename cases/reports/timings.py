"""The durations the workload's medians rank, kept per case (``report_durations``).

Ranking a month's sign-fors read, per sign-for, the case's last dispatch before it (a
correlated look-up) and, per closed case, its row: at a million cases those reads were most
of a workload page. Each duration is kept instead as one narrow row ordered by its later
moment, with the keys it counts under, so a period's durations are one range read.
``step_flows`` rewrites a case's rows whenever it rewrites its flows (a new timeline line,
a case moved, reclassified, closed or reopened, a signer who changed department);
``flows.rebuild_flows`` rebuilds them all. Their histograms (``duration_counts``) follow
in the same statements' transaction: a period's medians are read from those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from cases.reports import duration_counts
from cases.reports.duration_counts import bucket_of
from cases.reports.models import ReportDuration

DURATIONS = ReportDuration.__table__
DISPATCHES = ("dispatch", "route", "transfer")
MICROSECOND = timedelta(microseconds=1)


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def duration_rows(case_id: int, case: dict, steps: list, departments: dict) -> list[dict]:
    """The case's sign-for durations (from the latest dispatch before each, by timeline
    order), when 办结 its closing duration (as ``figures_workload`` keys them) and, when
    answered, the hours to the answer (``/stats``)."""
    rows = []
    dispatched = None
    for step_id, action, moment, actor, _details in steps:
        if action == "sign_for" and dispatched is not None:
            micros = (_aware(moment) - dispatched) // MICROSECOND
            rows.append({"kind": "sign", "at": _aware(moment), "ref_id": step_id,
                         "case_id": case_id, "earlier": dispatched, "micros": micros,
                         "department_id": departments.get(actor), "staff_id": actor,
                         "category_id": case["category_id"],
                         "district_id": case["district_id"], "bucket": bucket_of(micros)})
        if action in DISPATCHES:
            dispatched = max(filter(None, (dispatched, _aware(moment))))
    status = getattr(case["status"], "value", case["status"])
    if status == "closed" and case["closed_at"] is not None:
        rows += since_filing("close", case_id, case, case["closed_at"])
    rows += since_filing("answer", case_id, case, case["replied_at"])
    return rows


def since_filing(kind: str, case_id: int, case: dict, later: datetime | None) -> list[dict]:
    """The case's duration from filing to ``later`` (办结: ``close``; the answer, as
    ``/stats`` ranks it: ``answer``), under the case's keys of today; none if undated."""
    if later is None or case["created_at"] is None:
        return []
    micros = (_aware(later) - _aware(case["created_at"])) // MICROSECOND
    return [{"kind": kind, "at": _aware(later), "ref_id": case_id, "case_id": case_id,
             "earlier": _aware(case["created_at"]), "micros": micros,
             "department_id": case["department_id"], "staff_id": case["assignee_id"],
             "category_id": case["category_id"], "district_id": case["district_id"],
             "bucket": bucket_of(micros)}]


def fill_answers(connection: Connection) -> int:
    """Keep the answer durations of the cases already answered (the migration that adds
    them; ``flows.rebuild_flows`` keeps them with the rest). Returns how many."""
    from cases.models import Case

    columns = ("created_at", "replied_at", "department_id", "assignee_id", "category_id",
               "district_id")
    connection.execute(delete(ReportDuration).where(ReportDuration.kind == "answer"))
    found, batch = 0, []
    result = connection.execute(
        select(Case.id, *(getattr(Case, c) for c in columns))
        .where(Case.replied_at.is_not(None)).execution_options(yield_per=20000))
    for case_id, *values in result:
        case = dict(zip(columns, values, strict=True))
        batch += since_filing("answer", case_id, case, case["replied_at"])
        if len(batch) >= 5000:
            connection.execute(DURATIONS.insert(), batch)
            found, batch = found + len(batch), []
    if batch:
        connection.execute(DURATIONS.insert(), batch)
    return found + len(batch)


def replace(connection: Connection, case_ids: Iterable[int], rows: list[dict]) -> None:
    """The cases' rows become ``rows``; their histograms take the difference."""
    ids = sorted(set(case_ids))
    change: Counter = Counter()
    for start in range(0, len(ids), 1000):
        part = ReportDuration.case_id.in_(ids[start:start + 1000])
        change.subtract(duration_counts.cells_of(duration_counts.kept_rows(connection, part)))
        connection.execute(delete(ReportDuration).where(part))
    for start in range(0, len(rows), 5000):
        connection.execute(DURATIONS.insert(), rows[start:start + 5000])
    change.update(duration_counts.cells_of(rows))
    duration_counts.add(connection, change)


def replace_known(connection: Connection, rows_by_case: dict[int, list[dict]],
                  kept_by_case: dict[int, list[dict] | None]) -> None:
    """``replace`` when some cases' rows in the table are known already (``kept_by_case``:
    what ``replace`` wrote for them earlier in this transaction, ``[]`` for a case
    inserted in it; None or missing: not known). Known rows are not read again, and a
    case whose rows do not change is left alone: its rows, histograms and statements are
    those ``replace`` would leave (filing: no read, no DELETE)."""
    unknown = sorted(i for i in rows_by_case if kept_by_case.get(i) is None)
    changed = [i for i in rows_by_case
               if kept_by_case.get(i) is not None and kept_by_case[i] != rows_by_case[i]]
    change: Counter = Counter()
    for start in range(0, len(unknown), 1000):  # as ``replace``: read, then delete
        part = ReportDuration.case_id.in_(unknown[start:start + 1000])
        change.subtract(duration_counts.cells_of(duration_counts.kept_rows(connection, part)))
        connection.execute(delete(ReportDuration).where(part))
    for case_id in changed:
        change.subtract(duration_counts.cells_of(kept_by_case[case_id]))
    stale = sorted(i for i in changed if kept_by_case[i])
    for start in range(0, len(stale), 1000):
        connection.execute(delete(ReportDuration).where(
            ReportDuration.case_id.in_(stale[start:start + 1000])))
    rows = [row for i in (*unknown, *changed) for row in rows_by_case[i]]
    for start in range(0, len(rows), 5000):
        connection.execute(DURATIONS.insert(), rows[start:start + 5000])
    change.update(duration_counts.cells_of(rows))
    duration_counts.add(connection, change)
