"""CPU time and SQL statements of one page, in process (issue 16's profiling aid).

    .venv/bin/python bench/page_cpu.py --database /tmp/bh.db clerk /cases/2026-000123
    .venv/bin/python bench/page_cpu.py --database /tmp/bh.db citizen /requests/new \\
        --sections cases.views:render_template,cases.views:category_choices
    .venv/bin/python bench/page_cpu.py --database /tmp/bh.db - / --profile
    .venv/bin/python bench/page_cpu.py --database /tmp/bh.db citizen /requests/new --post
    .venv/bin/python bench/page_cpu.py --database /tmp/bh.db clerk /intake/new --post \
        --form channel=phone --form priority=normal --form new_name=张三

Reads a database loaded by ``bench/http.py --keep FILE`` (its search index beside it,
``FILE.search-index``), signs in as the demo user ``ROLE`` (``-``: nobody; ``api``: a read
token of the clerk, as ``bench/http.py``'s API rows), asks for the page a few times to warm
the caches, then prints the statements of one request and the
CPU milliseconds per request over ``--requests`` requests (process time: it holds on a
machine shared with other work better than wall time does). ``--sections`` adds the CPU
spent in the named functions (``module:function``, patched where the page's module looks
them up); ``--profile`` prints cProfile's top functions.

``--post`` files a case each request instead (issue 16's filing): the bench's filing form
(``bench/http.py``: a category without extra questions, the first district, confirmed as
new) plus ``--form NAME=VALUE`` fields, POSTed to ``PATH``; it prints the statements inside
the request and those run after the response (``response.call_on_close``: the outbox's
delivery) apart, and the CPU of each. Every POST files a case: run it on a copy of the
database when runs must be compared on the same data.
"""

from __future__ import annotations

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import collections  # noqa: E402
import cProfile  # noqa: E402
import functools  # noqa: E402
import importlib  # noqa: E402
import pstats  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from sqlalchemy import event, select  # noqa: E402

from bench.http_load import USER_AGENT  # noqa: E402
from cases.demo import DEMO_PASSWORD  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.models import District  # noqa: E402


def patch_sections(names: list[str], spent: collections.Counter) -> None:
    for name in names:
        module_name, function = name.split(":")
        module = importlib.import_module(module_name)
        original = getattr(module, function)

        def timed(*args, _original=original, _name=name, **kwargs):
            started = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] += time.process_time() - started

        setattr(module, function, functools.wraps(original)(timed))


def explain(engine, statements: list[str], parameters: list, slower_than_ms: float) -> None:
    """Run each statement again, timed; print the plan of the slow ones."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        for statement, params in zip(statements, parameters, strict=True):
            started = time.perf_counter()
            connection.exec_driver_sql(statement, params).fetchall()
            elapsed = (time.perf_counter() - started) * 1000
            if elapsed < slower_than_ms:
                continue
            print(f"\n{elapsed:.1f} ms: {' '.join(statement.split())[:400]}")
            prefix = "EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN "
            for row in connection.exec_driver_sql(prefix + statement, params):
                print("     ", " | ".join(str(c) for c in row))
        connection.rollback()


def filing_form(app, extra: list[str]) -> dict:
    """The bench's filing form (as ``bench/http.py`` posts it) with ``extra`` NAME=VALUE."""
    from cases.catalogue.models import CategoryQuestion
    from cases.models import Category

    with app.app_context():
        form = {"type": "complaint", "title": "五一路夜间施工噪音扰民",
                "description": "每天晚上十一点以后仍在施工，严重影响休息。", "confirm_new": "1",
                "category": db.session.scalar(  # a category without extra questions
                    select(Category.id).where(
                        Category.parent_id.is_not(None),
                        Category.id.not_in(select(CategoryQuestion.category_id)))
                    .order_by(Category.id)),
                "district": db.session.scalar(select(District.id).order_by(District.id))}
        db.session.remove()
    for item in extra:
        name, _, value = item.partition("=")
        form[name] = value
    return form


def time_posts(client, path: str, form: dict, headers: dict, n: int, profiler) -> None:
    """POST the form ``n`` times; CPU and wall of the request and of its after-response
    work (``call_on_close``, run when the test client's response is closed) apart."""
    in_cpu = in_wall = after_cpu = 0.0
    statuses: collections.Counter = collections.Counter()
    for _ in range(n):
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        response = client.post(path, data=form, headers=headers)
        if profiler:
            profiler.disable()
        in_cpu += time.process_time() - cpu
        in_wall += time.perf_counter() - wall
        statuses[response.status_code] += 1
        cpu = time.process_time()
        response.close()  # what a server does once the response is sent
        after_cpu += time.process_time() - cpu
    print(f"POST {path}: {in_cpu / n * 1000:.2f} ms CPU, {in_wall / n * 1000:.2f} ms wall "
          f"in the request; {after_cpu / n * 1000:.2f} ms CPU after the response "
          f"({n} posts, statuses {dict(statuses)}{', profiled: inflated' if profiler else ''})")


def count_post(client, engine, path: str, form: dict, headers: dict, show: bool) -> None:
    """The statements of one POST: inside the request, and after its response."""
    statements: list[str] = []

    def listen(*a) -> None:
        statements.append(a[2])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        response = client.post(path, data=form, headers=headers)
        inside = len(statements)
        response.close()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    print(f"POST {path}: status {response.status_code} → {response.headers.get('Location')}, "
          f"{inside} SQL statements in the request, {len(statements) - inside} after it")
    if show:
        for number, statement in enumerate(statements):
            mark = "  " if number < inside else "A "
            print(f"  {mark}", " ".join(statement.split())[:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", help="demo user (clerk, handler, citizen, official...) or -")
    parser.add_argument("path", help="the page, e.g. /queues/unassigned")
    parser.add_argument("--database", required=True, help="SQLite file or database URL")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--sections", default="", help="module:function,...")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40, help="the profile's lines")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (tottime...)")
    parser.add_argument("--match", default="", help="only the profile's lines matching this")
    parser.add_argument("--sql", action="store_true", help="print the statements")
    parser.add_argument("--post", action="store_true",
                        help="file a case each request: POST the filing form to PATH")
    parser.add_argument("--catch-up", default="off", choices=("off", "inline", "thread"),
                        help="the search index's catch-up after each commit (SEARCH_CATCH_UP; "
                             "inline: counted in the request)")
    parser.add_argument("--form", action="append", default=[], metavar="NAME=VALUE",
                        help="a field of the posted form (with --post; repeatable)")
    parser.add_argument("--explain", type=float, metavar="MS", default=None,
                        help="time each statement again and print the plan of those "
                             "slower than MS (EXPLAIN ANALYZE / EXPLAIN QUERY PLAN)")
    args = parser.parse_args()

    url = args.database if "://" in args.database else f"sqlite:///{os.path.abspath(args.database)}"
    index = f"{args.database}.search-index" if "://" not in args.database else None
    app = create_app({
        "DATABASE_URL": url, "SECRET_KEY": "bench-page-cpu", "MAIL_BACKEND": "log",
        "SESSION_COOKIE_SECURE": False, "LOG_LEVEL": "WARNING", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "SEARCH_CATCH_UP": args.catch_up,
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="page-cpu-"),
        **({"SEARCH_INDEX_DIR": index} if index else {}),
    })
    spent: collections.Counter = collections.Counter()
    patch_sections([s for s in args.sections.split(",") if s], spent)
    client, headers = app.test_client(), {"User-Agent": USER_AGENT}
    if args.role == "api":  # the API's rows of bench/http.py: a read token of the clerk
        from portal.auth.token_services import create_token, revoke_token
        from portal.auth.tokens import AccessToken
        from portal.models import User

        with app.app_context():
            clerk = db.session.scalar(select(User).where(User.username == "clerk"))
            for earlier in db.session.scalars(select(AccessToken).where(  # one at a time
                    AccessToken.user_id == clerk.id, AccessToken.name == "bench-page-cpu",
                    AccessToken.revoked_at.is_(None))):
                revoke_token(clerk, earlier.id)
            _row, token = create_token(clerk, "bench-page-cpu", "read", None)
            db.session.commit()
        headers["Authorization"] = f"Bearer {token}"
    elif args.role != "-":
        client.post("/login", data={"username": args.role, "password": DEMO_PASSWORD},
                    headers=headers)
    for _ in range(3):
        status = client.get(args.path, headers=headers).status_code
    with app.app_context():
        engine = db.engine
    if args.post:
        form = filing_form(app, args.form)
        for _ in range(3):  # warm the POST's own paths
            client.post(args.path, data=form, headers=headers).close()
        count_post(client, engine, args.path, form, headers, args.sql)
        profiler = cProfile.Profile() if args.profile else None
        spent.clear()
        time_posts(client, args.path, form, headers, args.requests, profiler)
        for name, seconds in spent.most_common():
            print(f"  {name:55} {seconds / args.requests * 1000:7.2f} ms")
        if profiler:
            stats = pstats.Stats(profiler).sort_stats(args.sort)
            stats.print_stats(*([args.match] if args.match else []), args.top)
        return
    statements: list[str] = []
    parameters: list = []

    def listen(*a) -> None:
        statements.append(a[2])
        parameters.append(a[3])

    event.listen(engine, "before_cursor_execute", listen)
    client.get(args.path, headers=headers)
    event.remove(engine, "before_cursor_execute", listen)
    print(f"{args.path} as {args.role}: status {status}, {len(statements)} SQL statements")
    if args.sql:
        for statement in statements:
            print("   ", " ".join(statement.split())[:160])
    if args.explain is not None:
        explain(engine, statements, parameters, args.explain)
    spent.clear()
    profiler = cProfile.Profile() if args.profile else None
    started, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(args.requests):
        client.get(args.path, headers=headers)
    if profiler:
        profiler.disable()
    per_request = (time.process_time() - started) / args.requests * 1000
    wall = (time.perf_counter() - wall) / args.requests * 1000
    print(f"{per_request:.2f} ms CPU, {wall:.2f} ms wall a request ({args.requests} requests"
          f"{', profiled: inflated' if profiler else ''})")
    for name, seconds in spent.most_common():
        print(f"  {name:55} {seconds / args.requests * 1000:7.2f} ms")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(*([args.match] if args.match else []), args.top)


if __name__ == "__main__":
    main()
