"""Time the officials' report pages with many cases in the database (issue 13).

    .venv/bin/python -m bench.reports                       # SQLite, 100,000 cases
    .venv/bin/python -m bench.reports --cases 100000 --replicate 10 --keep /tmp/1m.db
    .venv/bin/python -m bench.reports --database-url postgresql://postgres@127.0.0.1:5432/test

Cases are spread over the last two years (so every period has a previous one and a year
before) along the life cycle, with their timeline (file, dispatch, sign for, reply, close),
ratings of most answers and a 差评 for each bad one, all inserted in bulk; the daily totals
and flows are then rebuilt once, as ``flask reports rebuild-totals`` would. ``--replicate
K`` copies all of it K − 1 more times under new ids (a million cases in minutes).
Requests go through Flask's test client (in process) signed in as the demo official; each
page is asked ``--requests`` times and the median and p95 printed. ``/stats``'s figures
are computed and stored once as the sweep does (timed apart: no request waits for it), then
the page is asked from the stored figures, and once stale (served as stored while a thread
refreshes them). For PostgreSQL the
script makes and drops its own database ``portal_bench_reports``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

# Run as a script, bench/ would come first on the path and bench/http.py would shadow the
# standard library's http: the repository root goes first, bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import (  # noqa: E402
    drop_postgres_database,
    fresh_postgres_database,
)
from cases.demo import DEMO_PASSWORD, load_demo_data  # noqa: E402
from cases.models import Case, CaseEvent, CaseNumberCounter, Category  # noqa: E402
from cases.reports.flows import rebuild_flows  # noqa: E402
from cases.reports.models import PublicStatsSnapshot  # noqa: E402
from cases.reports.periods import Period, today  # noqa: E402
from cases.reports.rating_months import rebuild_rating_months  # noqa: E402
from cases.reports.stats_store import (  # noqa: E402
    forget_public_stats,
    refresh_public_stats,
    wait_for_refresh,
)
from cases.reports.totals import rebuild_totals  # noqa: E402
from cases.satisfaction.models import BadReview, Rating  # noqa: E402
from citizens.models import Client  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db, utcnow  # noqa: E402
from portal.models import Department, District, Role, User  # noqa: E402

BENCH_DB = "portal_bench_reports"
TYPES = ["enquiry"] * 30 + ["help"] * 25 + ["complaint"] * 30 + ["suggestion"] * 8 + [
    "tipoff"] * 4 + ["praise"] * 3
CHANNELS = ["phone"] * 55 + ["web"] * 25 + ["mobile"] * 15 + ["walk_in", "letter", "email"] * 2
DAYS = 730
HOUR = timedelta(hours=1)


def _case_row(i, rng, now, refs, year):
    """One case along its life: ``(row, fate)`` with fate ``intake``, ``open`` or
    ``replied`` (and closed when ``row["closed_at"]``)."""
    filed = now - timedelta(minutes=rng.randint(10, DAYS * 1440))
    roll = rng.random()
    row = {
        "number": f"B{year}-{i + 1:07d}", "type": rng.choice(TYPES),
        "channel": rng.choice(CHANNELS), "status": "submitted",
        "title": f"测试诉求 {i} 路灯不亮影响夜间出行",
        "description": "小区门口路灯已经连续一周不亮，老人晚上出行很不方便。",
        "category_id": rng.choice(refs["categories"]), "district_id": rng.choice(refs["districts"]),
        "client_id": rng.choice(refs["clients"]), "created_at": filed, "updated_at": filed,
        "department_id": None, "assignee_id": None, "dispatched_at": None, "signed_at": None,
        "sign_due_at": None, "replied_at": None, "reply_due_at": None, "closed_at": None,
    }
    if roll < 0.2:  # answered at intake
        row.update(status="closed", replied_at=filed + HOUR / 4, closed_at=filed + HOUR)
        return row, "intake"
    dispatched = filed + timedelta(minutes=rng.randint(5, 600))
    row.update(status="dispatched", department_id=rng.choice(refs["departments"]),
               dispatched_at=dispatched, sign_due_at=dispatched + timedelta(hours=24),
               reply_due_at=dispatched + timedelta(days=10))
    if dispatched > now:
        row.update(dispatched_at=None, department_id=None, sign_due_at=None,
                   reply_due_at=None, status="submitted")
        return row, "open"
    signed = dispatched + timedelta(minutes=rng.randint(10, 2 * 1440))
    if signed < now:
        staff = refs["staff"].get(row["department_id"])
        row.update(status="in_progress", signed_at=signed,
                   assignee_id=rng.choice(staff) if staff else None)
        replied = signed + timedelta(minutes=rng.randint(60, 14 * 1440))
        if replied < now and roll < 0.93:
            row.update(status="replied", replied_at=replied)
            if replied + timedelta(days=3) < now:
                row.update(status="closed", closed_at=replied + timedelta(days=3))
            return row, "replied"
    return row, "open"


def _events(case_id, row, fate):
    """The case's timeline, as the services would have written it."""
    out = [{"case_id": case_id, "action": "file", "to_status": "submitted",
            "created_at": row["created_at"], "is_public": True, "actor_kind": "staff"}]
    if fate == "intake":
        out.append({"case_id": case_id, "action": "answer", "to_status": "replied",
                    "created_at": row["replied_at"], "is_public": True, "actor_kind": "staff"})
    if row["dispatched_at"]:
        out.append({"case_id": case_id, "action": "dispatch", "to_status": "dispatched",
                    "created_at": row["dispatched_at"], "is_public": True, "actor_kind": "staff",
                    "details": {"department": row["department_id"]}})
    if row["signed_at"]:
        out.append({"case_id": case_id, "action": "sign_for", "to_status": "in_progress",
                    "created_at": row["signed_at"], "is_public": True, "actor_kind": "staff",
                    "actor_id": row["assignee_id"]})
    if row["replied_at"] and fate == "replied":
        out.append({"case_id": case_id, "action": "reply", "to_status": "replied",
                    "created_at": row["replied_at"], "is_public": True, "actor_kind": "staff",
                    "actor_id": row["assignee_id"]})
    if row["closed_at"]:
        out.append({"case_id": case_id, "action": "close", "to_status": "closed",
                    "created_at": row["closed_at"], "is_public": True, "actor_kind": "staff"})
    return out


def fill(case_count: int, seed: int = 7) -> None:
    """Demo reference data, then ``case_count`` cases with timelines and ratings, in bulk."""
    load_demo_data(case_count=0, seed=seed)
    db.session.commit()
    rng = random.Random(seed)
    refs = {
        "categories": list(db.session.scalars(
            select(Category.id).where(Category.parent_id.is_not(None)))),
        "districts": list(db.session.scalars(select(District.id))),
        "departments": list(db.session.scalars(select(Department.id))),
        "clients": list(db.session.scalars(select(Client.id))),
        "staff": {},
    }
    for user_id, department_id in db.session.execute(
            select(User.id, User.department_id).where(
                User.role.in_([Role.HANDLER, Role.DEPARTMENT_HEAD]),
                User.department_id.is_not(None)).order_by(User.id)):
        refs["staff"].setdefault(department_id, []).append(user_id)
    now, batch = utcnow(), 5000
    for start in range(0, case_count, batch):
        made = [_case_row(i, rng, now, refs, now.year)
                for i in range(start, min(start + batch, case_count))]
        ids = db.session.execute(
            insert(Case).returning(Case.id, sort_by_parameter_order=True), [r for r, _ in made]
        ).scalars().all()
        events, ratings = [], []
        for case_id, (row, fate) in zip(ids, made, strict=True):
            events += _events(case_id, row, fate)
            if row["replied_at"] and rng.random() < 0.7:
                level = rng.choices([5, 4, 3, 2, 1], [45, 25, 15, 10, 5])[0]
                rated = row["replied_at"] + timedelta(hours=rng.randint(1, 72))
                ratings.append({
                    "case_id": case_id, "client_id": row["client_id"],
                    "department_id": row["department_id"], "status": "rated",
                    "nonce": "b" * 32, "requested_at": row["replied_at"],
                    "link_expires_at": row["replied_at"] + timedelta(days=7),
                    "level": level, "solved": "yes" if level >= 3 else rng.choice(["no", "partly"]),
                    "rated_at": rated, "created_at": rated, "updated_at": rated,
                })
        db.session.execute(insert(CaseEvent), events)
        if ratings:
            rating_ids = db.session.execute(
                insert(Rating).returning(Rating.id, sort_by_parameter_order=True), ratings
            ).scalars().all()
            bad = [{"rating_id": rid, "case_id": r["case_id"], "department_id": r["department_id"],
                    "stage": "closed", "outcome": rng.choice(["fixed", "rectified", "explained"]),
                    "closed_at": r["rated_at"] + timedelta(days=5),
                    "created_at": r["rated_at"], "updated_at": r["rated_at"]}
                   for rid, r in zip(rating_ids, ratings, strict=True) if r["level"] <= 2]
            if bad:
                db.session.execute(insert(BadReview), bad)
        db.session.commit()
    db.session.add(CaseNumberCounter(year=now.year, last_value=0))
    started = time.perf_counter()
    rows = (rebuild_totals() + rebuild_flows()
            + rebuild_rating_months(db.session.connection()))
    db.session.commit()
    print(f"daily totals and flows rebuilt: {rows} rows in {time.perf_counter() - started:.1f} s")
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _copy(table: str, columns: list[str], shifted: dict[str, str], where: str, params) -> None:
    """``INSERT INTO table SELECT`` its own rows with some columns shifted (SQLite and PG)."""
    plain = [c for c in columns if c not in shifted]
    names = ", ".join([*shifted, *plain])
    values = ", ".join([*shifted.values(), *plain])
    db.session.execute(text(
        f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} WHERE {where}"  # noqa: S608
    ), params)


def replicate(times: int) -> int:
    """Copy the loaded cases, their timelines, ratings and 差评 ``times - 1`` more times
    under new ids and numbers (``2026-000123.2``), with the same dates: a city with ``times``
    as many requests a day, loaded in minutes where ``fill`` would take hours (SQLite and
    PostgreSQL). The daily totals are rebuilt afterwards. Returns the number of cases."""
    span = db.session.scalar(text("SELECT max(id) FROM cases"))
    rating_span = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM ratings"))

    def others(model, *skip):
        return [c.name for c in model.__table__.columns if c.name not in skip]

    for k in range(2, times + 1):
        offset, rating_offset = (k - 1) * span, (k - 1) * rating_span
        params = {"offset": offset, "roffset": rating_offset, "k": f".{k}", "span": span,
                  "rspan": rating_span}
        _copy("cases", others(Case, "id", "number"),
              {"id": "id + :offset", "number": "number || :k"}, "id <= :span", params)
        _copy("case_events", others(CaseEvent, "id", "case_id"),
              {"case_id": "case_id + :offset"}, "case_id <= :span", params)
        _copy("ratings", others(Rating, "id", "case_id"),
              {"id": "id + :roffset", "case_id": "case_id + :offset"}, "id <= :rspan", params)
        _copy("bad_reviews", others(BadReview, "id", "case_id", "rating_id"),
              {"case_id": "case_id + :offset", "rating_id": "rating_id + :roffset"},
              "rating_id <= :rspan", params)
        db.session.commit()
        print(f"copy {k} of {times} loaded", flush=True)
    if db.engine.dialect.name == "postgresql":
        for table in ("cases", "ratings"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"))
    rebuild_totals()
    rebuild_flows()
    rebuild_rating_months(db.session.connection())
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return db.session.scalar(text("SELECT count(*) FROM cases"))


def _populated(url: str) -> bool:
    """Whether a kept database already holds the cases (then it is timed as it is)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT count(*) FROM cases")))
    except Exception:  # noqa: BLE001 - no such database or table yet: load it
        return False
    finally:
        engine.dispose()


def _timed(client, url: str, n: int) -> list[tuple[float, float]]:
    """``(wall ms, process CPU ms)`` of ``n`` requests: on a shared machine the wall time
    grows with the load, the process's CPU time much less (both are printed)."""
    samples = []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _report(name: str, samples: list[tuple[float, float]]) -> None:
    walls = sorted(w for w, _ in samples)
    p95 = walls[max(0, int(len(walls) * 0.95) - 1)]
    cpu = statistics.median(c for _, c in samples)
    print(f"{name:<52} {statistics.median(walls):8.1f} {p95:8.1f} {cpu:8.1f} {len(walls):4d}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--replicate", type=int, default=1, metavar="K",
                        help="copy the loaded cases K times (--cases 100000 --replicate 10: "
                        "1,000,000 cases in minutes)")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", metavar="NAME",
                        help="keep the loaded data for the next run: a SQLite file path, or "
                             "the PostgreSQL database's name (loaded once, reused after)")
    parser.add_argument("--keep-gc", action="store_true",
                        help="do not gc.freeze() after warming up (the server does)")
    parser.add_argument("--only", help="time only the pages whose URL contains this")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    reuse = False
    if args.database_url and args.keep:
        url = make_url(args.database_url).set(database=args.keep).render_as_string(
            hide_password=False)
        reuse = _populated(url)
        if not reuse:
            url = fresh_postgres_database(args.database_url, args.keep)
    elif args.database_url:
        url = fresh_postgres_database(args.database_url, BENCH_DB)
    elif args.keep:
        url = f"sqlite:///{Path(args.keep).resolve()}"
        reuse = Path(args.keep).exists() and _populated(url)
    else:
        url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    app = create_app({
        "INSTANCE_PATH": tmp.name, "DATABASE_URL": url, "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING",
        "SESSION_COOKIE_SECURE": False, "MAIL_BACKEND": "log", "SEARCH_CATCH_UP": "off",
    })
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        if not reuse:
            fill(args.cases)
            if args.replicate > 1:
                replicate(args.replicate)
        total = db.session.scalar(select(func.count(Case.id)))
        events = db.session.scalar(select(func.count(CaseEvent.id)))
        print(f"{db.engine.dialect.name}: {total} cases, {events} events loaded in "
              f"{time.perf_counter() - started:.1f} s")
        month = Period.containing("month", today()).previous().key()
        official = db.session.scalar(select(User.username).where(User.username == "official"))
        assert official, "the demo official is missing"
        department = db.session.scalar(select(Department.id).order_by(Department.id).limit(1))
        category = db.session.scalar(select(Category.id).where(
            Category.parent_id.is_not(None)).order_by(Category.id).limit(1))

    n = args.requests
    client = app.test_client()
    client.post("/login", data={"username": "official", "password": DEMO_PASSWORD})
    pages = [
        ("/reports", "/reports"),
        *((f"/reports/workload?by={by}", f"/reports/workload?by={by}")
          for by in ("department", "category", "district", "staff")),
        ("/reports/workload?by=department&period=year", "/reports/workload (year)"),
        (f"/reports/monthly/{month}", "/reports/monthly/<m>"),
        (f"/reports/monthly/{month}.xlsx", "/reports/monthly/<m>.xlsx"),
        ("/reports/export/rates.csv", "/reports/export/rates.csv (三率)"),
        ("/reports/export/ranking.csv", "/reports/export/ranking.csv"),
        ("/reports/export/hotspots-categories.csv", "/reports/export/hotspots-categories"),
        ("/reports/alerts", "/reports/alerts"),
        ("/reports/cases?figure=backlog", "/reports/cases backlog (total)"),
        (f"/reports/cases?figure=responded&key={department}",
         "/reports/cases responded (a department)"),
        (f"/reports/cases?figure=signed&by=category&key={category}",
         "/reports/cases signed (a category)"),
        ("/reports?period=year", "/reports (year)"),
        (f"/reports/cases?figure=signed&key={department}&period=year",
         "/reports/cases signed (a department, year)"),
        (f"/reports/cases?figure=received&key={department}&period=year",
         "/reports/cases received (a department, year)"),
        (f"/reports/cases?figure=dispatched&key={department}&period=year",
         "/reports/cases dispatched (a department, year)"),
    ]
    pages = [(u, name) for u, name in pages if not args.only or args.only in u]
    for url, _name in pages:  # warm, as a worker is before it serves (gunicorn.conf.py)
        client.get(url)
    if not args.keep_gc:
        gc.freeze()  # as gunicorn.conf.py's post_worker_init does after warming up
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) before timing")
    print(f"{'page (ms)':<52} {'median':>8} {'p95':>8} {'cpu med':>8} {'n':>4}")
    for url, name in pages:
        _report(f"GET {name} (official)", _timed(client, url, n))
    public = app.test_client()
    if not args.only or args.only in "/stats":
        forget_public_stats(app)
        app.config["REPORTS_STATS_REFRESH"] = "off"  # timed apart, below
        with app.test_request_context():  # the sweep's part: no request waits for it
            wall, cpu = time.perf_counter(), time.process_time()
            refresh_public_stats(older_than=0)
            _report("/stats computed and stored (the sweep, no request)",
                    [((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)])
        _report("GET /stats (the stored figures)", _timed(public, "/stats", n))
        with app.app_context():  # stale: served as stored while a thread computes them
            db.session.execute(update(PublicStatsSnapshot).values(
                computed_at=utcnow() - timedelta(days=1)))
            db.session.commit()
        app.config["REPORTS_STATS_REFRESH"] = "thread"
        _report("GET /stats (stale: served, refreshed behind)", _timed(public, "/stats", 1))
        wait_for_refresh()
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) after timing")
    if args.database_url and not args.keep:
        with app.app_context():
            db.engine.dispose()
        drop_postgres_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
