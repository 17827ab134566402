"""The portal over HTTP, side by side with a bare Flask + SQLAlchemy reference (issue 16).

    .venv/bin/python bench/http.py                              # 10,000 cases, SQLite
    .venv/bin/python bench/http.py --cases 100000 --keep /tmp/bench-http-100k.db
    .venv/bin/python bench/http.py --database-url postgresql://postgres@127.0.0.1:5432/test
    make bench-http

Loads N cases with ``bench/reports.py``'s loader, serves the portal with gunicorn as
``make run`` does (2 sync workers, access log to a file) and ``bench/reference_app.py``
(one primary-key lookup and a small template) the same way, then for each page drives the
page and the reference in alternated rounds (``--rounds``, ``--duration`` s each,
``--connections`` keep-alive connections) and prints the median round's requests/s, p50,
p99, the ratio to the reference's requests/s, every status counted (``302→login`` is a
lost session: a failure) and the page's SQL queries (one request in process, counted by a
``before_cursor_execute`` listener). Filing a case is timed apart: one client, GET the form
then POST it. The login, filing and tracking rate limits are raised for the run (1,000,000
a minute). Results: ``bench/results.json`` and a markdown table on stdout.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder would come first on the path and ``http`` (this file)
# would shadow the standard library's: put the repository root there instead.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import reference_app  # noqa: E402
from bench.common import fresh_postgres_database  # noqa: E402
from bench.http_load import USER_AGENT, Client, drive, load_generator, sign_in  # noqa: E402
from bench.reports import _populated, fill, replicate  # noqa: E402
from cases.catalogue.models import CategoryQuestion  # noqa: E402
from cases.demo import DEMO_PASSWORD  # noqa: E402
from cases.models import Case, Category  # noqa: E402
from cases.queries import QUEUE_NAMES  # noqa: E402
from portal import create_app  # noqa: E402
from portal.auth.token_services import create_token  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import District, User  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
LIMIT = "1000000 per minute"
ROLES = ("clerk", "handler", "citizen", "official")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    """gunicorn as ``make run`` starts it, in its own process group (killed as a group)."""
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log.with_suffix(".access")),
         target],
        cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)


def wait_up(port: int, path: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the server on {port} stopped (exit {server.returncode})")
        try:
            Client(port).request("GET", path)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server on {port} did not come up")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def database_url(args, scratch: Path) -> tuple[str, bool]:
    """The URL to load (or reuse, with ``--keep``) and whether it is loaded already."""
    if args.database_url:
        name = args.keep or "portal_bench_http"
        url = make_url(args.database_url).set(database=name).render_as_string(
            hide_password=False)
        if args.keep and _populated(url):
            return url, True
        return fresh_postgres_database(args.database_url, name), False
    path = Path(args.keep).resolve() if args.keep else scratch / "portal.db"
    url = f"sqlite:///{path}"
    if args.keep and path.exists() and _populated(url):
        return url, True
    path.unlink(missing_ok=True)
    return url, False


def search_indexed(app) -> bool:
    """Whether the PostgreSQL backend's table already holds the cases (a kept database)."""
    from search.engine.pg_models import SearchDocument

    with app.app_context():
        upgrade()
        found = db.session.scalar(select(SearchDocument.doc_id).where(
            SearchDocument.kind == "case").limit(1)) is not None
        db.session.remove()
    return found


def prepare(app, cases: int, reuse: bool, indexed: bool, copies: int = 1) -> dict:
    """Load the data (unless reused; ``copies`` > 1: the cases copied in SQL, as
    ``bench/reports.py --replicate`` does), index it for search (unless a kept index is
    reused); return what the pages need."""
    from search import engine

    with app.app_context():
        upgrade()
        started = time.perf_counter()
        if not reuse:
            fill(cases)
            if copies > 1:
                replicate(copies)
        print(f"{db.engine.dialect.name}: {db.session.scalar(select(func.count(Case.id)))} "
              f"cases ready in {time.perf_counter() - started:.1f} s", flush=True)
        if reuse and indexed:
            print("search: the kept index is reused", flush=True)
        else:
            started = time.perf_counter()
            print(f"search: {engine.reindex()} documents indexed in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        handler = db.session.scalar(select(User).where(User.username == "handler"))
        rng = random.Random(3)
        numbers = list(db.session.scalars(select(Case.number)))
        mine = list(db.session.scalars(
            select(Case.number).where(Case.department_id == handler.department_id)))
        client_id = db.session.scalar(
            select(Case.client_id).group_by(Case.client_id)
            .order_by(func.count(Case.id).desc()).limit(1))
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        _row, token = create_token(clerk, "bench-http", "read", None)
        form = {"type": "complaint", "title": "五一路夜间施工噪音扰民",
                "description": "每天晚上十一点以后仍在施工，严重影响休息。", "confirm_new": "1",
                "category": db.session.scalar(  # a category without extra questions
                    select(Category.id).where(Category.parent_id.is_not(None),
                                              Category.id.not_in(select(CategoryQuestion.category_id)))
                    .order_by(Category.id)),
                "district": db.session.scalar(select(District.id))}
        db.session.commit()
        db.engine.dispose()
    return {"numbers": rng.sample(numbers, 50),
            "handler_numbers": rng.sample(mine, min(50, len(mine))),
            "client_id": client_id, "token": token, "form": form}


def page_list(app, fixtures: dict) -> list[tuple[str, str, list[str]]]:
    """``(name, who, paths)`` of every page timed; ``who`` is a role, ``api`` or ``-``."""
    pages = [("home page", "-", ["/"]), ("filing form", "citizen", ["/requests/new"])]
    probe = {role: app.test_client() for role in ("clerk", "handler")}
    for role, client in probe.items():
        client.post("/login", data={"username": role, "password": DEMO_PASSWORD},
                    headers={"User-Agent": USER_AGENT})
        for queue in QUEUE_NAMES:  # every queue the role may open
            if client.get(f"/queues/{queue}", headers={"User-Agent": USER_AGENT}).status_code \
                    == 200:
                pages.append((f"queue {queue}", role, [f"/queues/{queue}"]))
    pages += [
        ("case page", "clerk", [f"/cases/{n}" for n in fixtures["numbers"]]),
        ("case page", "handler", [f"/cases/{n}" for n in fixtures["handler_numbers"]]),
        ("client 360°", "clerk", [f"/clients/{fixtures['client_id']}"]),
        ("/track (wrong code: 404)", "-",
         [f"/track?number={n}&code=WRONGCOD" for n in fixtures["numbers"]]),
        ("search 路灯", "clerk", ["/search?q=%E8%B7%AF%E7%81%AF"]),
        ("reports", "official", ["/reports"]),
        ("workload by department", "official", ["/reports/workload?by=department"]),
        ("API /api/v1/cases", "api", ["/api/v1/cases"]),
        ("API /api/v1/cases/<n>", "api", [f"/api/v1/cases/{n}" for n in fixtures["numbers"]]),
        ("Open311 requests.json", "-", ["/open311/v2/requests.json?page_size=100"]),
    ]
    return pages


def count_queries(app, pages, fixtures) -> dict[tuple[str, str], int]:
    """SQL statements of one request of each page, in process, signed in the same way."""
    counts, statements = {}, []
    clients = {"-": app.test_client()}
    for role in ROLES:
        clients[role] = app.test_client()
        clients[role].post("/login", data={"username": role, "password": DEMO_PASSWORD},
                           headers={"User-Agent": USER_AGENT})
    clients["api"] = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    with app.app_context():
        engine = db.engine

    def listen(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        for name, who, paths in pages:
            extra = {"Authorization": f"Bearer {fixtures['token']}"} if who == "api" else {}
            clients[who].get(paths[0], headers={**headers, **extra})  # warm
            statements.clear()
            clients[who].get(paths[0], headers={**headers, **extra})
            counts[(name, who)] = len(statements)
        statements.clear()
        clients["citizen"].post("/requests/new", data=fixtures["form"], headers=headers)
        counts[("file a case (POST)", "citizen")] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return counts


def median_round(rounds: list[dict]) -> dict:
    ordered = sorted(rounds, key=lambda r: r["rps"])
    middle = ordered[len(ordered) // 2]
    statuses: dict[str, int] = {}
    for r in rounds:
        for key, value in r["statuses"].items():
            statuses[key] = statuses.get(key, 0) + value
    return {"rps": middle["rps"], "p50": statistics.median(r["p50"] for r in rounds),
            "p99": statistics.median(r["p99"] for r in rounds), "statuses": statuses}


def file_cases(port: int, cookie: str, form: dict, n: int) -> dict:
    """One client, ``n`` times: GET the form, POST it; the POST's median and p99 (ms)."""
    client, posts, statuses = Client(port, {"Cookie": cookie}), [], {}
    started = time.perf_counter()
    for _ in range(n):
        token = client.csrf("/requests/new")
        begun = time.perf_counter()
        status, location, _ = client.request("POST", "/requests/new",
                                             {**form, "csrf_token": token})
        posts.append((time.perf_counter() - begun) * 1000)
        key = "302→login" if "/login" in location else str(status)
        statuses[key] = statuses.get(key, 0) + 1
    elapsed = time.perf_counter() - started
    ordered = sorted(posts)
    return {"rps": n / elapsed, "p50": statistics.median(ordered),
            "p99": ordered[min(n - 1, round(0.99 * n) - 1)], "statuses": statuses}


def fmt_statuses(statuses: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(statuses.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--replicate", type=int, default=1, metavar="K",
                        help="copy the loaded cases K times in SQL (--cases 100000 "
                             "--replicate 10: 1,000,000 cases)")
    parser.add_argument("--search-backend", choices=("whoosh", "postgresql"), default="whoosh",
                        help="postgresql: the search table in the database (with "
                             "--database-url)")
    parser.add_argument("--database-url", help="PostgreSQL server (default: scratch SQLite)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--filings", type=int, default=50, help="cases filed, one by one")
    parser.add_argument("--keep", metavar="NAME",
                        help="reuse a loaded database: a SQLite file, or a PostgreSQL name")
    parser.add_argument("--only", help="time only the pages whose name contains this")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    url, reuse = database_url(args, scratch)
    # With --keep, the search index is kept beside the data (a reindex costs minutes).
    if not args.keep:
        index_dir = scratch / "search-index"
    elif args.database_url:  # --keep names a database
        index_dir = Path(tempfile.gettempdir()) / f"{args.keep}.search-index"
    else:  # --keep names a file
        index_dir = Path(f"{args.keep}.search-index").resolve()
    indexed = index_dir.is_dir() and any(index_dir.iterdir())
    if args.search_backend == "postgresql" and not args.database_url:
        parser.error("--search-backend postgresql needs --database-url")
    settings = {  # the portal's configuration, in process and in gunicorn alike
        "DATABASE_URL": url, "SECRET_KEY": "bench-http", "MAIL_BACKEND": "log",
        "SESSION_COOKIE_SECURE": False, "LOG_LEVEL": "WARNING",
        "LOGIN_RATE_LIMIT": LIMIT, "FILING_RATE_LIMIT": LIMIT, "TRACK_RATE_LIMIT": LIMIT,
        "API_RATE_LIMIT": LIMIT,
        "SEARCH_INDEX_DIR": str(index_dir), "SEARCH_BACKEND": args.search_backend,
        "ATTACHMENT_DIR": str(scratch / "attachments"),
    }
    app = create_app({**settings, "INSTANCE_PATH": str(scratch), "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SEARCH_CATCH_UP": "off"})
    if args.search_backend == "postgresql":
        indexed = reuse and search_indexed(app)
    fixtures = prepare(app, args.cases, reuse, indexed, args.replicate)
    pages = page_list(app, fixtures)
    if args.only:
        pages = [p for p in pages if args.only in p[0]]
    queries = count_queries(app, pages, fixtures)
    with app.app_context():
        db.engine.dispose()
    reference_db = scratch / "reference.db"
    reference_rows = args.cases * max(1, args.replicate)
    reference_app.build(str(reference_db), reference_rows)

    env = {f"PORTAL_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()}
    portal_port, reference_port = free_port(), free_port()
    servers = []
    try:
        servers.append(serve("wsgi:app", env, portal_port, scratch / "portal.log"))
        servers.append(serve("bench.reference_app:app", {"REFERENCE_DATABASE": str(reference_db)},
                             reference_port, scratch / "reference.log"))
        wait_up(portal_port, "/", servers[0])
        wait_up(reference_port, "/item/1", servers[1])
        headers = {"-": {}, "api": {"Authorization": f"Bearer {fixtures['token']}"}}
        for role in ROLES:
            headers[role] = {"Cookie": sign_in(portal_port, role, DEMO_PASSWORD)}
        rng = random.Random(5)
        reference_paths = [f"/item/{rng.randint(1, reference_rows)}" for _ in range(50)]
        rows = []
        print(f"{'page':<34} {'who':<9} {'req/s':>7} {'p50':>6} {'p99':>7} {'ratio':>6} "
              f"{'SQL':>4}  statuses", flush=True)
        for name, who, paths in pages:
            mine, ref = [], []
            for _ in range(args.rounds):  # alternated: page, reference, page, ...
                mine.append(drive(portal_port, paths, headers[who], args.connections,
                                  args.duration))
                ref.append(drive(reference_port, reference_paths, {}, args.connections,
                                 args.duration))
            page, floor = median_round(mine), median_round(ref)
            row = {"page": name, "who": who, **page, "reference_rps": floor["rps"],
                   "ratio": page["rps"] / floor["rps"] if floor["rps"] else 0.0,
                   "sql": queries.get((name, who))}
            rows.append(row)
            print(f"{name:<34} {who:<9} {row['rps']:7.0f} {row['p50']:6.1f} {row['p99']:7.1f} "
                  f"{row['ratio']:6.2f} {row['sql']!s:>4}  {fmt_statuses(row['statuses'])}",
                  flush=True)
        if not args.only or "file" in args.only:
            filing = file_cases(portal_port, headers["citizen"]["Cookie"], fixtures["form"],
                                args.filings)
            rows.append({"page": "file a case (POST, one client)", "who": "citizen", **filing,
                         "reference_rps": None, "ratio": None,
                         "sql": queries.get(("file a case (POST)", "citizen"))})
            print(f"{'file a case (POST, one client)':<34} {'citizen':<9} {filing['rps']:7.1f} "
                  f"{filing['p50']:6.1f} {filing['p99']:7.1f} {'':>6} "
                  f"{rows[-1]['sql']!s:>4}  {fmt_statuses(filing['statuses'])}", flush=True)
    finally:
        for server in servers:
            stop(server)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    result = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"cases": args.cases, "database": make_url(url).get_backend_name(),
                     "duration_s": args.duration, "rounds": args.rounds,
                     "connections": args.connections, "workers": 2, "server": "gunicorn sync",
                     "load_generator": load_generator(), "rate_limits": LIMIT,
                     "filings": args.filings},
        "rows": rows,
    }
    Path(args.output).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwritten to {args.output}\n")
    print("| page | as | req/s | p50 ms | p99 ms | × reference | SQL | statuses |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "–"
        print(f"| {r['page']} | {r['who']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
              f"| {ratio} | {r['sql']} | {fmt_statuses(r['statuses'])} |")
    references = [r["reference_rps"] for r in rows if r["reference_rps"]]
    if references:
        print(f"\nreference (GET /item/<id>): {statistics.median(references):.0f} req/s "
              "(median over the pages' rounds)")


if __name__ == "__main__":
    main()
