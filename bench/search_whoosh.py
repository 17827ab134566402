"""The Whoosh backend at scale: index build time and size, query p50/p95, filing to
searchable, on N synthetic Chinese cases (default 100,000; no database involved: the
engine's own work). Usage: .venv/bin/python bench/search_whoosh.py [--cases N] [--queries 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask_babel import Babel

from search.engine import bulk
from search.engine.text import warm_up
from search.engine.types import Document, SearchRequest
from search.engine.whoosh_backend import WhooshBackend

PLACES = ["五一路", "鼓楼区", "台江区", "小区", "学校门口", "菜市场", "地铁站", "公园", "医院"]
THINGS = ["路面积水", "电梯故障", "夜间施工噪音", "垃圾清运不及时", "路灯不亮", "井盖缺失",
          "占道经营", "油烟扰民", "供水中断", "停车难", "违章搭建", "噪声扰民"]
MORE = ["严重影响出行", "多次反映未解决", "老人上下楼困难", "希望尽快处理", "已持续一周",
        "存在安全隐患", "影响休息", "请相关部门核实", "周边居民意见很大"]
WORDS = ["积水", "电梯", "施工", "噪音", "垃圾", "路灯", "井盖", "油烟", "供水", "停车",
         "小区", "鼓楼区", "安全隐患", "老人", "学校", "地铁站", "违章", "扰民"]
STATUSES = ["new", "assigned", "in_progress", "answered", "closed"]


def document(i: int, rng: random.Random) -> Document:
    title = f"{rng.choice(PLACES)}{rng.choice(THINGS)}"
    body = "，".join(rng.choice(MORE) for _ in range(8)) + f"。{rng.choice(THINGS)}。"
    department = rng.randrange(1, 13)
    return Document(
        kind="case", id=i,
        text={"title": title, "body": body * 2},
        exact={"number": [f"2026-{i:06d}", f"2026{i:06d}"]},
        filters={"status": rng.choice(STATUSES), "department_id": department},
        dates={"created_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i)},
        access=("staff:all", f"department:{department}"),
    )


def size_of(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def measure(backend: WhooshBackend,
            requests: list[SearchRequest]) -> tuple[float, float, float]:
    """Median and p95 milliseconds, and the mean total found."""
    times, totals = [], []
    for request in requests:
        started = time.perf_counter()
        totals.append(backend.search(request).total)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], statistics.mean(totals)


class GeneratedCases:
    """The bench's cases as a source (documents made in id order, as read from a database)."""

    kind = "case"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def documents(self, ids: list[int]) -> list[Document]:
        return [document(i, self.rng) for i in ids]


def build(backend: WhooshBackend, args: argparse.Namespace) -> None:
    """What `flask search reindex` does (search.engine.bulk): analysis in a pool, one
    writer."""
    rng = random.Random(11)
    started = time.perf_counter()
    pool = multiprocessing.get_context("fork").Pool(args.procs) if args.procs > 1 else None
    try:
        with backend.writer(limitmb=bulk.BULK_LIMIT_MB, compound=False) as writer:
            for _n, rows in bulk._analysed(GeneratedCases(rng), list(range(args.cases)),
                                           bulk.analysed_fields, pool, depth=args.procs * 2):
                bulk.add_analysed(writer, rows)
    finally:
        if pool is not None:
            pool.terminate()
    took = time.perf_counter() - started
    print(f"{args.cases} cases: build {took:.1f} s with {args.procs} analysis processes "
          f"({args.cases / took:.0f} docs/s)", end=", ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--procs", type=int, default=2, help="analysis processes")
    parser.add_argument("--index", help="keep the index in this folder (and query an index "
                        "already there instead of building)")
    args = parser.parse_args()
    warm_up()
    app = Flask("bench")
    Babel(app)
    with tempfile.TemporaryDirectory() as scratch, app.app_context():
        folder = Path(args.index or scratch)
        backend = WhooshBackend(folder / "index")
        if backend.exists():  # --index of an earlier run: query it as it is
            print(f"{args.cases} cases: the index in {folder} ({size_of(folder):.1f} MB)")
        else:
            build(backend, args)
            print(f"size {size_of(folder):.1f} MB", flush=True)
        drawn = random.Random(12)  # the same queries however the index was made
        queries = [" ".join(drawn.sample(WORDS, drawn.choice((1, 2))))
                   for _ in range(args.queries)]
        backend.searcher()  # the per-process searcher, opened once
        print("\n| viewer | filter | p50 ms | p95 ms | mean total |\n|---|---|---|---|---|")
        for who, access in (("clerk", ("staff:all",)), ("handler", ("department:3",))):
            for label, filters in (("—", {}), ("status", {"status": ("in_progress",)})):
                requests = [SearchRequest(kind="case", query=q, access=access, filters=filters,
                                          facets=("status",), highlight=("title",))
                            for q in queries]
                p50, p95, total = measure(backend, requests)
                print(f"| {who} | {label} | {p50:.1f} | {p95:.1f} | {total:,.0f} |", flush=True)
        times, after = [], []
        rng = random.Random(13)
        for n in range(20):
            new_id = 10_000_000 + n
            started = time.perf_counter()
            backend.index([document(new_id, rng)])
            found = backend.search(SearchRequest(kind="case", query=f"2026{new_id:06d}",
                                                 access=("staff:all",)))
            times.append((time.perf_counter() - started) * 1000)
            assert found.total == 1
            started = time.perf_counter()  # a word query on the searcher the commit changed
            backend.search(SearchRequest(kind="case", query=queries[n], access=("staff:all",),
                                         facets=("status",), highlight=("title",)))
            after.append((time.perf_counter() - started) * 1000)
        print(f"filing to searchable (index 1 + commit + refresh + query): "
              f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms; "
              f"a word query just after: median {statistics.median(after):.0f} ms, "
              f"max {max(after):.0f} ms")
        backend.close()


if __name__ == "__main__":
    main()
