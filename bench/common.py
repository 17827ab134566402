"""What the bench scripts share: a throw-away PostgreSQL database and timing helpers."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url


def _admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_postgres_database(url: str, name: str) -> str:
    """(Re)create database ``name`` on the server of ``url``; return its SQLAlchemy URL."""
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str, name: str) -> None:
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(
    client,
    method: str,
    url: str | Callable[[int], str],
    n: int,
    expect: int | None = None,
    data=None,
    **kw,
) -> list[float]:
    """Milliseconds of ``n`` requests; ``url`` and ``data`` may be callables (per request)."""
    samples = []
    for i in range(n):
        target = url(i) if callable(url) else url
        body = data() if callable(data) else data
        started = time.perf_counter()
        response = client.open(target, method=method, data=body, **kw)
        samples.append((time.perf_counter() - started) * 1000)
        ok = response.status_code == expect if expect else response.status_code < 400
        assert ok, (target, response.status_code)
    return samples


def report(name: str, samples: list[float], width: int = 52) -> None:
    """One line: median and p95 in milliseconds, and the number of samples."""
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"{name:<{width}} {statistics.median(ordered):8.1f} {p95:8.1f} {len(ordered):6d}")


def header(width: int = 52) -> None:
    print(f"{'page (ms)':<{width}} {'median':>8} {'p95':>8} {'n':>6}")
