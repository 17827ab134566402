"""Time the client list and the 360° page with a million cases in the database.

    .venv/bin/python bench/client360.py                    # SQLite, 1,000,000 cases
    .venv/bin/python bench/client360.py --cases 100000
    .venv/bin/python bench/client360.py --cases 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test

The cases belong to many clients (about ten each); one client, the demo citizen, has
``--heavy`` cases (500) across every department, some of them anonymous tip-offs or
assisted by the handler's department, with replies, internal notes and attachment rows.
Every filing wrote a contact (about 500 for the busy client, plus 20 calls). Rows go in
with SQLAlchemy Core ``insert()`` in batches, with explicit ids. Requests go through
Flask's test client (in process: app, ORM, database and templates, no network). For
PostgreSQL the script makes and drops its own database ``portal_bench360`` on the given
server; the URL's database only connects.
"""

from __future__ import annotations

import argparse
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
from cases.models import (  # noqa: E402
    Attachment,
    Case,
    CaseAssist,
    CaseNumberCounter,
    CaseReply,
    CaseStatus,
    Category,
)
from citizens.models import (  # noqa: E402
    Client,
    ClientFlag,
    ClientTag,
    ContactLog,
    VulnerableGroup,
)
from portal.db import db, utcnow  # noqa: E402
from portal.models import Department, District, User  # noqa: E402

BENCH_DB = "portal_bench360"
BATCH = 10_000

STATUS_MIX = (
    [CaseStatus.SUBMITTED] * 10
    + [CaseStatus.DISPATCHED] * 10
    + [CaseStatus.IN_PROGRESS] * 20
    + [CaseStatus.WAITING] * 5
    + [CaseStatus.REPLIED] * 15
    + [CaseStatus.CLOSED] * 40
)
RUNNING = {CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS}
ANSWERED = {CaseStatus.REPLIED, CaseStatus.CLOSED}
INDUSTRIES = ["制造业", "餐饮", "零售", "建筑", "物流", "软件和信息技术", "教育培训", "房地产"]
TAGS = ["媒体关注", "人大代表", "独居老人", "重点关注", "多次来电", "外籍人士"]
SIZES = ["large", "medium", "small", "micro"]


def insert_batches(model, rows) -> None:
    """Insert an iterable of row dicts in batches, one commit per batch."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            db.session.execute(insert(model), batch)
            db.session.commit()
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
        db.session.commit()


def next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def fill(case_count: int, heavy: int, seed: int = 7) -> dict:
    """Demo reference data, then clients and ``case_count`` cases in bulk; the heavy client."""
    load_demo_data(case_count=0, seed=seed)
    db.session.commit()
    rng = random.Random(seed)
    categories = list(
        db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None)))
    )
    districts = list(db.session.scalars(select(District.id)))
    departments = list(db.session.scalars(select(Department.id)))
    citizen = db.session.scalar(select(User).where(User.username == "citizen"))
    handler = db.session.scalar(select(User).where(User.username == "handler"))
    clerk = db.session.scalar(select(User).where(User.username == "clerk"))
    heavy_id = citizen.client_id
    now = utcnow()
    year = now.year

    # Who filed each case: the heavy client ``heavy`` times, spread over the whole period.
    client_count = max(case_count // 10, 100)
    first_client = next_id(Client)
    heavy_slots = set(rng.sample(range(case_count), min(heavy, case_count)))
    owners = [
        heavy_id if i in heavy_slots else first_client + rng.randrange(client_count)
        for i in range(case_count)
    ]
    per_client: dict[int, int] = {}
    for owner in owners:
        per_client[owner] = per_client.get(owner, 0) + 1
    db.session.execute(
        Client.__table__.update()
        .where(Client.id == heavy_id)
        .values(case_count=per_client.get(heavy_id, 0), district_id=districts[0])
    )
    db.session.commit()

    def clients():
        for k in range(client_count):
            client_id = first_client + k
            enterprise = rng.random() < 0.1
            yield {
                "id": client_id,
                "kind": "enterprise" if enterprise else "citizen",
                "name": f"{'企业' if enterprise else '市民'}{client_id:07d}",
                "phone": f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
                "district_id": rng.choice(districts),
                "size_tier": rng.choice(SIZES) if enterprise else None,
                "industry": rng.choice(INDUSTRIES) if enterprise else None,
                "contact_person": "联系人" if enterprise else None,
                "case_count": per_client.get(client_id, 0),
                "created_at": now - timedelta(days=400),
                "updated_at": now - timedelta(days=400),
                "locale": "zh_CN",
                "notify_by_email": True,
                "notify_by_sms": False,
            }

    insert_batches(Client, clients())
    insert_batches(
        ClientFlag,
        (
            {"client_id": first_client + k, "flag": rng.choice(list(VulnerableGroup))}
            for k in range(client_count)
            if rng.random() < 0.03
        ),
    )
    insert_batches(
        ClientTag,
        (
            {"client_id": first_client + k, "tag": rng.choice(TAGS)}
            for k in range(client_count)
            if rng.random() < 0.02
        ),
    )

    first_case = next_id(Case)
    heavy_cases: list[tuple[int, CaseStatus, object]] = []

    def cases():
        for i, owner in enumerate(owners):
            case_id = first_case + i
            filed = now - timedelta(minutes=(case_count - i) // 2)
            status = rng.choice(STATUS_MIX)
            department = None if status == CaseStatus.SUBMITTED else rng.choice(departments)
            due = now + timedelta(minutes=rng.randint(-3 * 1440, 10 * 1440))
            anonymous = owner == heavy_id and rng.random() < 0.02
            if owner == heavy_id:
                heavy_cases.append((case_id, status, filed))
            yield {
                "id": case_id,
                "number": f"{year}-{i + 1:07d}",
                "type": "tipoff" if anonymous else "complaint",
                "channel": "web",
                "status": status,
                "priority": "normal",
                "title": f"测试诉求 {i} 路灯不亮影响夜间出行",
                "description": "小区门口路灯已经连续一周不亮，老人晚上出行很不方便。",
                "category_id": rng.choice(categories),
                "district_id": rng.choice(districts),
                "client_id": owner,
                "created_at": filed,
                "updated_at": filed,
                "department_id": department,
                "due_at": due if status in RUNNING else None,
                "reply_due_at": due if department else None,
                "anonymous": anonymous,
            }

    insert_batches(Case, cases())
    # Assisting departments: 3% of all cases, and a fifth of the heavy client's (the handler's).
    insert_batches(
        CaseAssist,
        (
            {"case_id": first_case + i, "department_id": rng.choice(departments)}
            for i in range(case_count)
            if rng.random() < 0.03 and owners[i] != heavy_id
        ),
    )
    assisted = [case_id for case_id, _s, _f in heavy_cases if rng.random() < 0.2]
    insert_batches(
        CaseAssist,
        ({"case_id": c, "department_id": handler.department_id} for c in assisted),
    )
    insert_batches(
        CaseReply,
        (
            {
                "case_id": case_id,
                "author_id": handler.id,
                "body": body,
                "is_public": public,
                "created_at": filed + timedelta(days=1),
            }
            for case_id, status, filed in heavy_cases
            for body, public in (("已安排人员现场处理。", True), ("已电话联系。", False))
            if status in ANSWERED or not public
        ),
    )
    insert_batches(
        Attachment,
        (
            {
                "case_id": case_id,
                "filename": "现场照片.jpg",
                "content_type": "image/jpeg",
                "size": 100_000,
                "sha256": "0" * 64,
                "storage_key": f"bench-{case_id}",
                "created_at": filed,
            }
            for case_id, _status, filed in heavy_cases
            if case_id % 3 == 0
        ),
    )
    # Every filing wrote a contact (``record_filing_contact``): one per case, for everyone.
    insert_batches(
        ContactLog,
        (
            {
                "client_id": owner,
                "channel": "web",
                "case_id": first_case + i,
                "summary": f"{year}-{i + 1:07d} 测试诉求",
                "automatic": True,
                "created_at": now - timedelta(minutes=(case_count - i) // 2),
            }
            for i, owner in enumerate(owners)
        ),
    )
    insert_batches(
        ContactLog,
        (
            {
                "client_id": heavy_id,
                "channel": "phone",
                "staff_id": clerk.id,
                "summary": "电话回访，群众表示已解决。",
                "automatic": False,
                "created_at": now - timedelta(days=d),
            }
            for d in range(20)
        ),
    )
    db.session.add(CaseNumberCounter(year=year, last_value=case_count))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("clients", "cases"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
    # Fresh statistics, as autovacuum (PostgreSQL) or a maintenance job (SQLite) would keep.
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {
        "heavy_id": heavy_id,
        "clients": client_count,
        "district": districts[0],
        "phone": db.session.scalar(select(Client.phone).where(Client.id == first_client)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--heavy", type=int, default=500, help="cases of the one busy client")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = (
        fresh_postgres_database(args.database_url, BENCH_DB)
        if args.database_url
        else f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    )
    app = create_app_for(url, tmp.name)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        facts = fill(args.cases, args.heavy)
        total = db.session.scalar(select(func.count(Case.id)))
        clients = db.session.scalar(select(func.count(Client.id)))
        backend = db.engine.dialect.name
        print(
            f"{backend}: {total} cases of {clients} clients loaded in "
            f"{time.perf_counter() - started:.1f} s"
        )

    n = args.requests
    heavy = facts["heavy_id"]
    sessions = {}
    for user in ("clerk", "handler", "supervisor"):
        sessions[user] = app.test_client()
        sessions[user].post("/login", data={"username": user, "password": DEMO_PASSWORD})
    clerk, handler, supervisor = sessions["clerk"], sessions["handler"], sessions["supervisor"]

    header()
    report(
        f"GET /clients/<id> ({args.heavy} cases, clerk)",
        timed(clerk, "GET", f"/clients/{heavy}", n),
    )
    report(
        "GET /clients/<id>?page=20 (clerk)",
        timed(clerk, "GET", f"/clients/{heavy}?page=20&contacts_page=20", n),
    )
    report(
        "GET /clients/<id> (supervisor, + access log)",
        timed(supervisor, "GET", f"/clients/{heavy}", n),
    )
    report(
        "GET /clients/<id> (handler, own department)", timed(handler, "GET", f"/clients/{heavy}", n)
    )
    report(
        "POST /clients/<id>/reveal (clerk)",
        timed(
            clerk,
            "POST",
            f"/clients/{heavy}/reveal",
            n,
            data={"field": "phone", "reason": "回访核实"},
        ),
    )
    report("GET /clients (clerk)", timed(clerk, "GET", "/clients", n))
    report(
        "GET /clients?engagement=frequent&district= (clerk)",
        timed(clerk, "GET", f"/clients?engagement=frequent&district={facts['district']}", n),
    )
    report(
        "GET /clients?kind=enterprise&size_tier=large (clerk)",
        timed(clerk, "GET", "/clients?kind=enterprise&size_tier=large", n),
    )
    report("GET /clients?flag=any (clerk)", timed(clerk, "GET", "/clients?flag=any", n))
    report("GET /clients?tag=媒体关注 (clerk)", timed(clerk, "GET", "/clients?tag=媒体关注", n))
    report("GET /clients?q=<phone> (clerk)", timed(clerk, "GET", f"/clients?q={facts['phone']}", n))
    report("GET /clients?q=<part of a name> (clerk)", timed(clerk, "GET", "/clients?q=0001234", n))
    report("GET /clients (handler: department scope)", timed(handler, "GET", "/clients", n))
    report(
        "GET /clients?engagement=frequent (handler)",
        timed(handler, "GET", "/clients?engagement=frequent", n),
    )
    with app.app_context():
        db.engine.dispose()
    if args.database_url:
        drop_postgres_database(args.database_url, BENCH_DB)
    tmp.cleanup()


def create_app_for(url: str, instance: str):
    from portal import create_app

    return create_app(
        {
            "INSTANCE_PATH": instance,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "SESSION_COOKIE_SECURE": False,
        }
    )


if __name__ == "__main__":
    main()
