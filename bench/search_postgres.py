"""The PostgreSQL search backend on N synthetic Chinese cases (default 100,000).

Prints: analysis time (Python: jieba, bigrams, tsvector text), load time (upserts), table
and index sizes, query latency (median, p95) for 200 mixed one- and two-word queries as a
clerk (every case) and as a handler (one department's access key), with and without a
status filter, with and without facets, and the time of one upsert (a case filed becomes
searchable when its upsert commits). Runs in a database of its own, made afresh: the one
the URL names, or ``portal_bench_search_pg`` when it names ``postgres``; dropped at the end
unless ``--keep``. ``--reindex-only`` also prints the CPU seconds of the main process, the
analysis workers and the PostgreSQL server processes (what an idle machine would need, on a
machine that others load). Run it as a module (``bench/http.py`` would shadow the standard
library's ``http`` if the script's folder came first on the path):

    .venv/bin/python -m bench.search_postgres --docs 100000 \
        --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.search_postgres --docs 100000 --case-fields --reindex-only
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, bench/ would come first on the path and bench/http.py would shadow the
# standard library's http: the repository root goes first, bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import drop_postgres_database, fresh_postgres_database  # noqa: E402
from search.engine import bulk, registry  # noqa: E402
from search.engine.pg_models import SearchDocument  # noqa: E402
from search.engine.postgres_backend import GIN_INDEXES, PostgresBackend, row_of  # noqa: E402
from search.engine.text import warm_up  # noqa: E402
from search.engine.types import Document, SearchRequest  # noqa: E402

WORDS = str.split(
    "路面 积水 严重 电梯 故障 频繁 小区 噪音 扰民 夜间 施工 垃圾 清运 "
    "不及时 路灯 损坏 井盖 缺失 占道 经营 违章 停车 供暖 不热 停水 停电 "
    "漏水 污水 外溢 绿化 树木 倒伏 物业 收费 不合理 楼道 堆物 消防 通道 "
    "堵塞 公交 站台 改线 学校 门口 拥堵 油烟 餐馆 排放 异味 河道 漂浮物 "
    "广场舞 音响 过大 共享单车 乱停 放 房屋 漏雨 维修 基金 工地 扬尘 "
    "渣土车 遗撒 交通 信号灯 老人 出行 困难 无障碍 设施 小商贩 流浪狗 伤人 "
    "市场 价格 欺诈 投诉 建议 咨询"
)
PLACES = str.split("解放路 人民路 幸福小区 阳光花园 东湖街道 西城区 朝阳区 海淀区 和平里 新华街")
STATUSES = ("submitted", "assigned", "in_progress", "answered", "closed")


def general_words(count: int = 5000) -> tuple[list[str], list[float]]:
    """jieba's most frequent Chinese words of 2-3 characters, with cumulative weights."""
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split()
        if len(word) in (2, 3) and all("\u4e00" <= c <= "\u9fff" for c in word):
            rows.append((int(freq), word))
    rows.sort(reverse=True)
    words, cumulative, total = [], [], 0.0
    for freq, word in rows[:count]:
        total += freq
        words.append(word)
        cumulative.append(total)
    return words, cumulative


GENERAL, GENERAL_CUM = general_words()


def sentence(rng: random.Random, words: int) -> str:
    """A place, then words: half from the civic vocabulary, half from everyday Chinese
    (jieba's dictionary, by frequency): some queries match many cases, most few."""
    parts = [rng.choice(PLACES)]
    for _ in range(words):
        if rng.random() < 0.5:
            parts.append(rng.choice(WORDS))
        else:
            parts.extend(rng.choices(GENERAL, cum_weights=GENERAL_CUM))
    return "".join(parts) + "。"


def case_fields() -> dict[str, list[str]]:
    """A real case's short text fields (``search.sources.cases``), from the demo catalogue:
    category (with its parent), department and district in Chinese and English, and the
    type, channel and status labels in both languages (they repeat from case to case)."""
    from cases.demo.catalogue import DEPARTMENTS, DISTRICTS, TREE

    labels = [f"{a} {b} {c}" for a in ("投诉 Complaint", "求助 Request for help", "咨询 Enquiry",
                                        "建议 Suggestion")
              for b in ("电话 Phone", "网站 Website", "微信 WeChat", "来访 Walk-in")
              for c in ("已受理 Submitted", "处理中 In progress", "已答复 Replied",
                        "已办结 Closed")]
    return {
        "category": [f"{b.zh} {b.en} {leaf.zh} {leaf.en}" for b in TREE for leaf in b.leaves],
        "department": [f"{zh} {en}" for _code, zh, en in DEPARTMENTS],
        "district": [f"{zh} {en}" for _code, zh, en in DISTRICTS],
        "labels": labels,
    }


CASE_FIELDS: dict[str, list[str]] = {}  # filled by --case-fields


def make_document(rng: random.Random, i: int, start: datetime) -> Document:
    department = rng.randrange(1, 21)
    body = "".join(sentence(rng, rng.randrange(6, 10)) for _ in range(4))[:150]
    number = f"2026-{i:06d}"
    short = {name: values[(i * 7 + len(name)) % len(values)]
             for name, values in CASE_FIELDS.items()}
    return Document(
        kind="case",
        id=i,
        text={"title": sentence(rng, 4)[:15], "body": body,
              "replies": sentence(rng, 6) if i % 3 == 0 else "",
              "notes": sentence(rng, 5) if i % 5 == 0 else "", **short},
        exact={"number": [number, number.replace("-", "")]},
        filters={"status": rng.choice(STATUSES), "department_id": department,
                 "district_id": rng.randrange(1, 17), "overdue": int(rng.random() < 0.1)},
        dates={"created_at": start + timedelta(minutes=i * 5)},
        access=("staff", f"dept:{department}", f"client:{rng.randrange(1, i // 10 + 2)}"),
    )


class BenchSource:
    kind = "case"
    text_fields = ("title", "body", "replies", "notes")
    public_fields = ("title", "body", "replies")
    exact_fields = ("number",)


class GeneratedCases(BenchSource):
    """The bench's cases as a source (documents made in id order, as read from a database)."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng, self.start = rng, start

    def documents(self, ids: list[int]) -> list[Document]:
        return [make_document(self.rng, i, self.start) for i in ids]


class _Reuse(Exception):
    """The documents are in the database already (``--reuse``)."""


def server_cpu(pids: set[int], fine: bool = False) -> float:
    """CPU seconds of these PostgreSQL server processes so far (same machine: /proc;
    ``fine``: from the scheduler's nanoseconds, for one search)."""
    total = 0.0
    for pid in pids:
        try:
            if fine:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone, or another machine's
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def word_table(backend: PostgresBackend, queries: list[str], label: str,
               server_pids: set[int]) -> None:
    """Median and p95 of the word queries: clerk and handler, with and without a status
    filter and facets; wall time, and CPU time (this process and its server processes:
    what an idle core would take, on a machine that others load)."""
    viewers = {"clerk": ("staff",), "handler": ("dept:3",)}
    print(f"\n{label}\n| viewer | filter | facets | p50 ms | p95 ms | CPU p50 / p95 ms "
          "| mean hits |")
    print("|---|---|---|---|---|---|---|")
    for viewer, keys in viewers.items():
        for filters in ({}, {"status": ("in_progress",)}):
            for facets in ((), ("status", "department_id", "district_id")):
                samples, cpu, totals = [], [], []
                for query in queries:
                    request = SearchRequest(kind="case", query=query, access=keys,
                                            filters=filters, facets=facets,
                                            highlight=("title", "body"))
                    c0, s0 = time.process_time(), server_cpu(server_pids, fine=True)
                    t0 = time.perf_counter()
                    response = backend.search(request)
                    samples.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0 + server_cpu(server_pids, fine=True)
                                - s0) * 1000)
                    totals.append(response.total)
                print(f"| {viewer} | {'status' if filters else '—'} | "
                      f"{'3' if facets else '—'} | {statistics.median(samples):.1f} | "
                      f"{percentile(samples, 0.95):.1f} | {statistics.median(cpu):.1f} / "
                      f"{percentile(cpu, 0.95):.1f} | {statistics.mean(totals):,.0f} |",
                      flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--procs", type=int, default=2, help="analysis processes")
    parser.add_argument("--replicate", type=int, default=1, metavar="K",
                        help="analyse docs/K cases and copy their rows K times (query "
                        "timings at a size whose full analysis would take too long here)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--case-fields", action="store_true",
                        help="give each case a real case's short fields too (category, "
                        "department, district, labels: what `flask search reindex` analyses)")
    parser.add_argument("--reindex-only", action="store_true",
                        help="time the analysis and the reindex only (no queries)")
    parser.add_argument("--reuse", action="store_true",
                        help="query the database a --keep run left (same --docs)")
    args = parser.parse_args()
    if args.case_fields:
        CASE_FIELDS.update(case_fields())
    # The URL's database is the bench's own (made afresh) unless it is the server's
    # maintenance database ``postgres``, which only serves to create one.
    given = make_url(args.database_url)
    name = given.database if given.database not in (None, "", "postgres") else (
        "portal_bench_search_pg")
    admin = given.set(database="postgres").render_as_string(hide_password=False)
    args.database_url = admin
    if args.reuse:
        url = given.set(database=name).render_as_string(hide_password=False)
    else:
        url = fresh_postgres_database(admin, name)
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    server_pids: set[int] = set()  # the server processes of the bench's connections
    event.listen(engine, "connect",
                 lambda dbapi, _record: server_pids.add(dbapi.info.backend_pid))
    if not args.reuse:
        SearchDocument.__table__.create(engine)
        with engine.begin() as conn:  # as migrations 0009 and 0015 do on PostgreSQL
            conn.execute(text("ALTER TABLE search_documents SET (toast_tuple_target = 8160)"))
            conn.execute(text("ALTER TABLE search_documents ALTER COLUMN tsv SET STORAGE MAIN"))
            conn.execute(text("ALTER TABLE search_documents ALTER COLUMN tsv "
                              "SET STATISTICS 1000"))
    registry.register_source(BenchSource())
    backend = PostgresBackend(engine)
    rng = random.Random(11)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    warm_up()
    source = GeneratedCases(rng, start)
    words = WORDS + GENERAL[:2000]
    drawn = random.Random(12)  # the same queries at every size
    queries = [" ".join(drawn.sample(words, drawn.choice((1, 2)))) for _ in range(200)]
    unique = args.docs // args.replicate
    try:
        if args.reuse:
            for _ in range(unique):  # the same random draws as the run that built it
                make_document(rng, 1, start)
            raise _Reuse
        sample = [make_document(random.Random(5), i, start) for i in range(1, 2001)]
        t0 = time.perf_counter()
        for document in sample:
            row_of(document)
        analysis = (time.perf_counter() - t0) / 2000 * unique
        t0, cpu0 = time.perf_counter(), time.process_time()
        pool = multiprocessing.get_context("fork").Pool(args.procs) if args.procs > 1 else None
        try:  # what `flask search reindex` does (search.engine.bulk)
            chunks = (rows for _n, rows in bulk._analysed(
                source, list(range(1, unique + 1)), row_of, pool, depth=args.procs * 2))
            backend.replace_kind("case", chunks)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()  # reaped: their CPU time counts in RUSAGE_CHILDREN
        load = time.perf_counter() - t0
        if args.reindex_only:
            main_cpu = time.process_time() - cpu0
            workers = resource.getrusage(resource.RUSAGE_CHILDREN)
            server = server_cpu(server_pids)
            print(f"analysis (Python, 1 process): {analysis:.1f} s "
                  f"({analysis / unique * 1000:.3f} ms a case)")
            print(f"reindex of {unique:,} (analysis in {args.procs} processes, COPY in one "
                  f"transaction): {load:.1f} s ({unique / load:,.0f} docs/s); load average "
                  f"{os.getloadavg()[0]:.1f}")
            analysed = workers.ru_utime + workers.ru_stime
            cores = os.cpu_count() or 1
            idle = max(main_cpu, server, (main_cpu + analysed + server) / cores)
            print(f"CPU seconds: main process {main_cpu:.0f} (reading documents, COPY), "
                  f"analysis workers {analysed:.0f}, PostgreSQL server {server:.0f} (COPY, "
                  f"indexes); on {cores} idle cores at least {idle:.0f} s")
            engine.dispose()
            if not args.keep:
                drop_postgres_database(args.database_url, name)
            return
        if args.replicate > 1:  # the word queries at the analysed size first
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE search_documents"))
            word_table(backend, queries, f"{unique:,} cases", server_pids)
            t0 = time.perf_counter()
        with engine.begin() as conn:  # copies of the analysed rows under new ids
            # The GIN indexes are made again after the copies, as a first build does
            # (growing them row by row took ~0.5 ms a row).
            gin = list(conn.execute(GIN_INDEXES)) if args.replicate > 1 else []
            for index_name, _definition in gin:
                conn.execute(text(f'DROP INDEX "{index_name}"'))
            for k in range(1, args.replicate):
                conn.execute(text(
                    "INSERT INTO search_documents (kind, doc_id, fingerprint, tsv, texts, "
                    "filters, dates, access, updated_at) SELECT kind, doc_id + :offset, "
                    "fingerprint, tsv, texts, filters, dates, access, updated_at "
                    "FROM search_documents WHERE doc_id <= :unique"
                ), {"offset": k * unique, "unique": unique})
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for _index_name, definition in gin:
                conn.execute(text(definition))
        if args.replicate > 1:
            print(f"{unique:,} analysed cases copied {args.replicate} times: "
                  f"{time.perf_counter() - t0:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE search_documents"))
        after = time.perf_counter() - t0
    except _Reuse:
        analysis = load = after = float("nan")
    except Exception:
        drop_postgres_database(args.database_url, name)
        raise
    with engine.connect() as conn:
        sizes = conn.execute(text(
            "SELECT 'table (heap + TOAST, no indexes)', "
            "pg_size_pretty(pg_table_size('search_documents')) UNION ALL "
            "SELECT 'all indexes', pg_size_pretty(pg_indexes_size('search_documents')) "
            "UNION ALL SELECT relname, pg_size_pretty(pg_relation_size(c.oid)) "
            "FROM pg_class c WHERE relname LIKE 'ix_search_documents%' UNION ALL "
            "SELECT 'mean tsvector bytes', round(avg(pg_column_size(tsv)))::text "
            "FROM search_documents"
        )).all()
    print(f"documents: {args.docs:,}")
    print(f"analysis (Python, 1 process): {analysis:.1f} s ({unique / analysis:,.0f} docs/s)")
    print(f"reindex of {unique:,} (analysis in {args.procs} processes, COPY in one "
          f"transaction): {load:.1f} s ({unique / load:,.0f} docs/s); "
          f"with copies and VACUUM ANALYZE {after:.1f} s")
    for relname, size in sizes:
        print(f"  {relname}: {size}")

    word_table(backend, queries, f"{args.docs:,} cases", server_pids)

    print("\n| no words (browse) | p50 ms | p95 ms | total |")
    print("|---|---|---|---|")
    facets = ("status", "department_id", "district_id")
    for label, keys, filters in (
        ("clerk, newest, 3 facets", ("staff",), {}),
        ("clerk, status filter, 3 facets", ("staff",), {"status": ("closed",)}),
        ("handler, newest, 3 facets", ("dept:3",), {}),
    ):
        samples = []
        for _ in range(20 if args.docs <= 200_000 else 5):
            t0 = time.perf_counter()
            response = backend.search(SearchRequest(kind="case", access=keys, sort="newest",
                                                    filters=filters, facets=facets))
            samples.append((time.perf_counter() - t0) * 1000)
        print(f"| {label} | {statistics.median(samples):.1f} | "
              f"{percentile(samples, 0.95):.1f} | {response.total:,} |")

    samples = []
    for n in range(50):  # filing to searchable: the upsert commits, then a search finds it
        document = make_document(rng, args.docs + 1 + n, start)
        t0 = time.perf_counter()
        backend.index([document])
        found = backend.search(SearchRequest(kind="case", query=document.exact["number"][0],
                                             access=("staff",)))
        samples.append((time.perf_counter() - t0) * 1000)
        assert found.total == 1
    print(f"\none document upserted and then found: p50 {statistics.median(samples):.1f} ms, "
          f"p95 {percentile(samples, 0.95):.1f} ms")
    engine.dispose()
    if not (args.keep or args.reuse):
        drop_postgres_database(args.database_url, name)


if __name__ == "__main__":
    main()
