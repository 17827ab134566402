"""Time Open311 ``GET requests`` (and its neighbours) with many cases in the database.

    .venv/bin/python bench/open311.py                       # SQLite, 100,000 cases
    .venv/bin/python bench/open311.py --cases 1000000 --keep /tmp/open311-1m.db
    .venv/bin/python bench/open311.py --database-url postgresql://postgres@127.0.0.1:5432/test

The cases are loaded by ``bench/reports.py``'s loader (two years of cases of every type
along the life cycle, with their timelines, in bulk). Requests go through Flask's test
client (in process, no key: reading is open); each URL is asked ``--requests`` times and
the median and p95 printed. ``GET requests.json`` without parameters is the standard's
default: the most recent 90 days, the first 1,000 public matters. ``servicerequestupdates``
is timed as FixMyStreet polls it (the last day) and over the 90-day default. For PostgreSQL the
script makes and drops its own database ``portal_bench_open311`` (or keeps ``--keep``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

# Run as a script, bench/ would come first on the path and bench/http.py would shadow the
# standard library's http: the repository root goes first, bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import (  # noqa: E402
    drop_postgres_database,
    fresh_postgres_database,
    header,
    report,
    timed,
)
from bench.reports import _populated, fill, replicate  # noqa: E402
from cases.models import Case, Category  # noqa: E402
from cases.visibility import public_matters  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402

BENCH_DB = "portal_bench_open311"
API = "/open311/v2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--replicate", type=int, default=1, metavar="K",
                        help="PostgreSQL: copy the loaded cases K times (--cases 100000 "
                        "--replicate 10 times 1,000,000 cases)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", metavar="NAME",
                        help="keep the loaded data for the next run: a SQLite file path, or "
                             "the PostgreSQL database's name (loaded once, reused after)")
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
        "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING", "SEARCH_CATCH_UP": "off",
    })
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        if not reuse:
            fill(args.cases)
            if args.replicate > 1:
                replicate(args.replicate)
        total = db.session.scalar(select(func.count(Case.id)))
        public = db.session.scalar(select(func.count(Case.id)).where(public_matters()))
        print(f"{db.engine.dialect.name}: {total} cases ({public} public matters) ready in "
              f"{time.perf_counter() - started:.1f} s")
        number = db.session.scalar(
            select(Case.number).where(public_matters()).order_by(Case.id.desc()).limit(1))
        code = db.session.scalar(
            select(Category.code).join(Case, Case.category_id == Category.id)
            .where(Case.id == db.session.scalar(select(func.max(Case.id)))))

    client, n = app.test_client(), args.requests
    day_ago = quote((datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    urls = [
        (f"{API}/requests.json", "GET requests.json (90 days, first 1000)"),
        (f"{API}/requests.xml", "GET requests.xml (90 days, first 1000)"),
        (f"{API}/requests.json?page_size=100", "GET requests.json?page_size=100"),
        (f"{API}/requests.json?page=20&page_size=100", "GET requests.json?page=20&page_size=100"),
        (f"{API}/requests.json?status=open&service_code={code}",
         "GET requests.json?status=open&service_code=…"),
        (f"{API}/requests/{number}.json", "GET requests/<id>.json"),
        (f"{API}/servicerequestupdates.json?start_date={day_ago}",
         "GET servicerequestupdates.json (the last day)"),
        (f"{API}/servicerequestupdates.json?page_size=100",
         "GET servicerequestupdates.json?page_size=100 (90 days)"),
        (f"{API}/services.json", "GET services.json"),
    ]
    sizes = {}
    for url, _name in urls:
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code, answer.data[:200])
        sizes[url] = len(answer.data)
    header(56)
    for url, name in urls:
        report(f"{name} [{sizes[url] // 1024} KB]", timed(client, "GET", url, n), 56)
    if args.database_url and not args.keep:
        with app.app_context():
            db.engine.dispose()
        drop_postgres_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
