"""Time the JSON API's case list ``GET /api/v1/cases`` with many cases in the database.

    .venv/bin/python bench/api.py                       # SQLite, 100,000 cases
    .venv/bin/python bench/api.py --cases 1000000
    .venv/bin/python bench/api.py --database-url postgresql://postgres@127.0.0.1:5432/test

The cases are loaded as ``bench/pages.py`` loads them (demo reference data, then cases
along the life cycle, in bulk). Requests go through Flask's test client with a personal
access token (in process: app, ORM, database, JSON; no network), as a clerk (the whole
city) and a handler (one department): the first page, a page deep in the list (after
following ``next_cursor`` 50 times: keyset paging costs the same at any depth), queues,
filters, and one case read. For PostgreSQL the script makes and drops its own database
``portal_bench_api``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ would come first on the path and bench/http.py would shadow the
# standard library's http: the repository root goes first, bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import (  # noqa: E402
    drop_postgres_database,
    fresh_postgres_database,
    header,
    report,
    timed,
)
from bench.pages import fill  # noqa: E402
from bench.reports import replicate  # noqa: E402
from cases.models import Case, Category  # noqa: E402
from portal import create_app  # noqa: E402
from portal.auth.token_services import create_token  # noqa: E402
from portal.db import db, utcnow  # noqa: E402
from portal.models import User  # noqa: E402

BENCH_DB = "portal_bench_api"


def token_for(username: str) -> dict[str, str]:
    user = db.session.scalar(select(User).where(User.username == username))
    _row, token = create_token(user, "bench", "read", None)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def deep_cursor(client, url: str, headers: dict[str, str], pages: int) -> str | None:
    """The cursor after following ``next_cursor`` ``pages`` times."""
    cursor = None
    for _ in range(pages):
        joiner = "&" if "?" in url else "?"
        body = client.get(url + (f"{joiner}cursor={cursor}" if cursor else ""),
                          headers=headers).get_json()
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return cursor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--replicate", type=int, default=1, metavar="K",
                        help="PostgreSQL: copy the loaded cases K times (--cases 100000 "
                        "--replicate 10 times 1,000,000 cases)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--sqlite-file", help="keep the SQLite database in this file and "
                        "reuse it when it is already loaded (repeated runs)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    if args.database_url:
        url = fresh_postgres_database(args.database_url, BENCH_DB)
    else:
        url = f"sqlite:///{Path(args.sqlite_file or Path(tmp.name) / 'bench.db').resolve()}"
    app = create_app({
        "INSTANCE_PATH": tmp.name, "DATABASE_URL": url, "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING", "SESSION_COOKIE_SECURE": False,
        "MAIL_BACKEND": "log",
    })
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        if not db.session.scalar(select(func.count(Case.id))):
            fill(args.cases)
            if args.replicate > 1:
                replicate(args.replicate)
        total = db.session.scalar(select(func.count(Case.id)))
        backend = db.engine.dialect.name
        print(f"{backend}: {total} cases loaded in {time.perf_counter() - started:.1f} s")
        clerk, handler = token_for("clerk"), token_for("handler")
        category = db.session.scalar(select(Category.id).where(Category.parent_id.is_not(None)))

    rng = random.Random(1)
    n = args.requests
    numbers = [f"{utcnow().year}-{rng.randint(1, args.cases):06d}" for _ in range(n)]
    client = app.test_client()
    deep = deep_cursor(client, "/api/v1/cases?limit=20", clerk, 50)
    deep_queue = deep_cursor(client, "/api/v1/cases?queue=overdue&limit=20", clerk, 50)

    header()
    rows = [
        ("GET /api/v1/cases (clerk, first page)", clerk, "/api/v1/cases"),
        ("GET /api/v1/cases?limit=100 (clerk)", clerk, "/api/v1/cases?limit=100"),
        ("GET /api/v1/cases (clerk, page 51 by cursor)", clerk,
         f"/api/v1/cases?limit=20&cursor={deep}"),
        ("GET /api/v1/cases?queue=unassigned (clerk)", clerk,
         "/api/v1/cases?queue=unassigned"),
        ("GET /api/v1/cases?queue=overdue (clerk)", clerk, "/api/v1/cases?queue=overdue"),
        ("GET /api/v1/cases?queue=overdue, page 51 (clerk)", clerk,
         f"/api/v1/cases?queue=overdue&limit=20&cursor={deep_queue}"),
        ("GET /api/v1/cases?category_id=… (clerk)", clerk,
         f"/api/v1/cases?category_id={category}"),
        ("GET /api/v1/cases?status=in_progress (clerk)", clerk,
         "/api/v1/cases?status=in_progress"),
        ("GET /api/v1/cases (handler, department)", handler, "/api/v1/cases"),
        ("GET /api/v1/cases?queue=mine (handler)", handler, "/api/v1/cases?queue=mine"),
    ]
    for name, headers, target in rows:
        if "cursor=None" in target:
            continue  # the list was shorter than 51 pages
        report(name, timed(client, "GET", target, n, expect=200, headers=headers))
    report("GET /api/v1/cases/<number> (clerk)",
           timed(client, "GET", lambda i: f"/api/v1/cases/{numbers[i]}", n, expect=200,
                 headers=clerk))
    if args.database_url:
        with app.app_context():
            db.engine.dispose()
        drop_postgres_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
