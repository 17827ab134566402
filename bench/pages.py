"""Time the first slice's pages with many cases in the database.

    .venv/bin/python bench/pages.py                       # SQLite, 100,000 cases
    .venv/bin/python bench/pages.py --cases 20000
    .venv/bin/python bench/pages.py --database-url postgresql://postgres@127.0.0.1:5432/test

Requests go through Flask's test client (in process: app, ORM, database and templates,
no network). For PostgreSQL the script makes and drops its own database ``portal_bench``
on the given server; the database in the URL is only used to connect.
"""

from __future__ import annotations

import argparse
import io
import random
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
from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.common import (  # noqa: E402
    drop_postgres_database,
    fresh_postgres_database,
    header,
    report,
    timed,
)
from cases.demo import DEMO_PASSWORD, load_demo_data  # noqa: E402
from cases.models import Case, CaseEvent, CaseNumberCounter, CaseStatus, Category  # noqa: E402
from citizens.models import Client  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db, utcnow  # noqa: E402
from portal.models import Department, District, User  # noqa: E402

BENCH_DB = "portal_bench"


STATUS_MIX = (
    [CaseStatus.SUBMITTED] * 10
    + [CaseStatus.DISPATCHED] * 10
    + [CaseStatus.IN_PROGRESS] * 20
    + [CaseStatus.WAITING] * 5
    + [CaseStatus.REPLIED] * 15
    + [CaseStatus.CLOSED] * 40
)
RUNNING = {CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS}


def fill(case_count: int, seed: int = 7) -> None:
    """Demo reference data, then ``case_count`` cases along the life cycle, in bulk."""
    load_demo_data(case_count=0, seed=seed)
    db.session.commit()
    rng = random.Random(seed)
    categories = db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None)))
    categories = list(categories)
    districts = list(db.session.scalars(select(District.id)))
    departments = list(db.session.scalars(select(Department.id)))
    clients = list(db.session.scalars(select(Client.id)))
    citizen = db.session.scalar(select(User).where(User.username == "citizen"))
    handler = db.session.scalar(select(User).where(User.username == "handler"))
    now = utcnow()
    year = now.year
    batch = 5000
    for start in range(0, case_count, batch):
        rows, events = [], []
        for i in range(start, min(start + batch, case_count)):
            filed = now - timedelta(minutes=case_count - i)
            status = rng.choice(STATUS_MIX)
            department = None if status == CaseStatus.SUBMITTED else rng.choice(departments)
            # One client in ten cases is the demo citizen, so "my requests" is long.
            client_id = citizen.client_id if i % 10 == 0 else rng.choice(clients)
            assignee = (
                handler.id
                if department == handler.department_id and status != CaseStatus.DISPATCHED
                else None
            )
            due = now + timedelta(minutes=rng.randint(-3 * 1440, 10 * 1440))
            rows.append(
                {
                    "number": f"{year}-{i + 1:06d}",
                    "type": "complaint",
                    "channel": "web",
                    "status": status,
                    "title": f"测试诉求 {i} 路灯不亮影响夜间出行",
                    "description": "小区门口路灯已经连续一周不亮，老人晚上出行很不方便。",
                    "category_id": rng.choice(categories),
                    "district_id": rng.choice(districts),
                    "client_id": client_id,
                    "created_at": filed,
                    "updated_at": filed,
                    "department_id": department,
                    "assignee_id": assignee,
                    "due_at": due if status in RUNNING else None,
                    "reply_due_at": due if department else None,
                    "supervised": rng.random() < 0.02,
                }
            )
        db.session.execute(insert(Case), rows)
        ids = db.session.execute(
            select(Case.id, Case.status, Case.created_at).where(
                Case.number.in_([r["number"] for r in rows])
            )
        ).all()
        for case_id, status, created in ids:
            events.append(
                {
                    "case_id": case_id,
                    "action": "file",
                    "to_status": "submitted",
                    "created_at": created,
                    "is_public": True,
                }
            )
            if status != CaseStatus.SUBMITTED:
                events.append(
                    {
                        "case_id": case_id,
                        "action": "dispatch",
                        "to_status": "dispatched",
                        "from_status": "submitted",
                        "created_at": created,
                        "is_public": True,
                    }
                )
        db.session.execute(insert(CaseEvent), events)
        db.session.commit()
    db.session.add(CaseNumberCounter(year=year, last_value=case_count))
    db.session.commit()
    # Fresh statistics, as autovacuum (PostgreSQL) or a maintenance job (SQLite) would keep.
    db.session.execute(text("ANALYZE"))
    db.session.commit()


# A JPEG-looking body of about 100 KB (the header is what the content check reads).
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100_000) + b"\xff\xd9"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = (
        fresh_postgres_database(args.database_url, BENCH_DB)
        if args.database_url
        else f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    )
    app = create_app(
        {
            "INSTANCE_PATH": tmp.name,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "SESSION_COOKIE_SECURE": False,
            "FILING_RATE_LIMIT": "100000 per hour",
            "TRACK_RATE_LIMIT": "100000 per minute",
            "MAIL_BACKEND": "log",
        }
    )
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        fill(args.cases)
        total = db.session.scalar(select(func.count(Case.id)))
        backend = db.engine.dialect.name
        print(f"{backend}: {total} cases loaded in {time.perf_counter() - started:.1f} s")

    rng = random.Random(1)
    numbers = [f"{utcnow().year}-{rng.randint(1, args.cases):06d}" for _ in range(args.requests)]
    n = args.requests
    clerk, handler, citizen = app.test_client(), app.test_client(), app.test_client()
    for c, user in ((clerk, "clerk"), (handler, "handler"), (citizen, "citizen")):
        c.post("/login", data={"username": user, "password": DEMO_PASSWORD})

    header()
    report("GET /cases/<number> (clerk)", timed(clerk, "GET", lambda i: f"/cases/{numbers[i]}", n))
    for queue in ("unassigned", "mine", "due-soon", "overdue", "waiting", "supervised"):
        report(
            f"GET /queues/{queue} (clerk)",
            timed(clerk, "GET", lambda i, q=queue: f"/queues/{q}", n),
        )
    for queue in ("mine", "department", "unassigned", "overdue"):
        report(
            f"GET /queues/{queue} (handler)",
            timed(handler, "GET", lambda i, q=queue: f"/queues/{q}", n),
        )
    report(
        "GET /queues/unassigned?page=200 (clerk)",
        timed(clerk, "GET", lambda i: "/queues/unassigned?page=200", n),
    )
    report("GET /requests (citizen)", timed(citizen, "GET", lambda i: "/requests", n))
    report("GET /requests/new (form)", timed(citizen, "GET", lambda i: "/requests/new", n))
    with app.app_context():
        category = db.session.scalar(select(Category.id).where(Category.parent_id.is_not(None)))
        district = db.session.scalar(select(District.id))
    form = {
        "type": "complaint",
        "category": category,
        "district": district,
        "title": "五一路夜间施工噪音扰民",
        "description": "每天晚上十一点以后仍在施工，严重影响休息。",
        "confirm_new": "1",  # the same title each time: past the look-alike warning
    }
    report(
        "POST /requests/new (file a case)",
        timed(citizen, "POST", lambda i: "/requests/new", n, expect=302, data=form),
    )
    report(
        "POST /requests/new (with a 100 KB photo)",
        timed(
            citizen,
            "POST",
            lambda i: "/requests/new",
            n,
            expect=302,
            data=lambda: {**form, "attachments": (io.BytesIO(PHOTO), "photo.jpg")},
        ),
    )
    report(
        "GET /track (number + code)",
        timed(
            app.test_client(),
            "GET",
            lambda i: f"/track?number={numbers[i]}&code=WRONGCOD",
            n,
            expect=404,
        ),
    )
    with app.app_context():
        db.engine.dispose()
    if args.database_url:
        drop_postgres_database(args.database_url, BENCH_DB)
    tmp.cleanup()


if __name__ == "__main__":
    main()
