"""The Whoosh backend at scale: index build time and size, query p50/p95, filing to
searchable, on N synthetic Chinese cases (default 100,000; no database involved: the
engine's own work). Usage: .venv/bin/python bench/search_whoosh.py [--cases N] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask_babel import Babel

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


def measure(backend: WhooshBackend, requests: list[SearchRequest]) -> tuple[float, float]:
    times = []
    for request in requests:
        started = time.perf_counter()
        backend.search(request)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(11)
    warm_up()
    app = Flask("bench")
    Babel(app)
    with tempfile.TemporaryDirectory() as folder, app.app_context():
        backend = WhooshBackend(Path(folder) / "index")
        started = time.perf_counter()
        with backend.writer() as writer:
            for start in range(0, args.cases, 1000):
                docs = [document(i, rng) for i in range(start, min(start + 1000, args.cases))]
                backend.index(docs, writer=writer, replace=False)
        build = time.perf_counter() - started
        print(f"{args.cases} cases: build {build:.1f} s "
              f"({args.cases / build:.0f} docs/s), size {size_of(Path(folder)):.1f} MB")
        queries = [" ".join(rng.sample(WORDS, rng.choice((1, 2)))) for _ in range(args.queries)]
        backend.searcher()  # the per-process searcher, opened once
        for who, access in (("clerk", ("staff:all",)), ("handler", ("department:3",))):
            for label, filters in (("no filter", {}), ("status filter",
                                                       {"status": ("in_progress",)})):
                requests = [SearchRequest(kind="case", query=q, access=access, filters=filters,
                                          facets=("status",), highlight=("title",))
                            for q in queries]
                p50, p95 = measure(backend, requests)
                print(f"  {who:8} {label:14} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        times = []
        for n in range(20):
            new_id = args.cases + n
            started = time.perf_counter()
            backend.index([document(new_id, rng)])
            backend.search(SearchRequest(kind="case", query=f"2026{new_id:06d}",
                                         access=("staff:all",)))
            times.append((time.perf_counter() - started) * 1000)
        print(f"  filing to searchable (index 1 + commit + refresh + query): "
              f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
        backend.close()


if __name__ == "__main__":
    main()
