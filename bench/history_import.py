"""History import: write a generated file of N cases and time ``flask cases import`` on it.

A scratch database (SQLite in a temporary folder, or ``--database-url`` for PostgreSQL:
database ``portal_bench_import``) gets a small catalogue; then the file is imported (every
row checked, then written in bulk) and imported again (every row skipped by its import
key). Prints seconds and rows/s for both runs.

    .venv/bin/python bench/history_import.py                    # 100,000 rows, SQLite
    .venv/bin/python bench/history_import.py --rows 20000 --xlsx
    .venv/bin/python bench/history_import.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

# Run as a script, bench/ would come first on the path and bench/http.py would shadow the
# standard library's http: the repository root goes first, bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import drop_postgres_database, fresh_postgres_database  # noqa: E402
from cases.imports.models import CaseImport  # noqa: E402
from cases.imports.runner import RUNNING, run_import  # noqa: E402
from cases.models import Case, Category  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db, utcnow  # noqa: E402
from portal.models import Department, District  # noqa: E402

BENCH_DB = "portal_bench_import"
HEADER = ["title", "description", "category", "department", "district", "type", "channel",
          "filed_at", "closed_at", "status", "reply", "rating", "name", "phone"]
TREE = {"城乡建设": ["物业管理", "道路维修", "路灯照明"], "环境保护": ["噪声扰民", "油烟污染"],
        "交通出行": ["公交线路", "违章停车"], "社会保障": ["养老保险", "医疗保险"]}
DISTRICTS = ["鼓楼区", "台江区", "仓山区", "晋安区"]
STATUSES = ["已办结"] * 8 + ["已答复", "closed", "办理中", "not_accepted"]


def catalogue() -> None:
    department = Department(code="urban", name_zh="城市管理局", name_en="Urban")
    db.session.add(department)
    for i, name in enumerate(DISTRICTS):
        db.session.add(District(code=f"d{i}", name_zh=name, name_en=f"District {i}"))
    for top, leaves in TREE.items():
        parent = Category(code=f"c-{top}", name_zh=top, name_en=top, department=department)
        db.session.add(parent)
        for leaf in leaves:
            db.session.add(Category(code=f"c-{top}-{leaf}", name_zh=leaf, name_en=leaf,
                                    parent=parent, department=department))
    db.session.commit()


def write_file(path: Path, rows: int, seed: int = 15) -> None:
    rng = random.Random(seed)
    paths = [f"{top}/{leaf}" for top, leaves in TREE.items() for leaf in leaves]
    start = datetime(2020, 1, 1, 8, 0)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            filed = start + timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60))
            status = rng.choice(STATUSES)
            done = status not in ("办理中",)
            closed = filed + timedelta(hours=rng.randint(2, 300)) if status in (
                "已办结", "closed", "not_accepted") else None
            reply = "已处理，感谢您的反映。" if done and status != "not_accepted" else ""
            person = rng.random() < 0.4
            writer.writerow([
                f"历史诉求{i}", f"第{i}条历史诉求的描述：小区附近问题反映。", rng.choice(paths), "",
                rng.choice(DISTRICTS), rng.choice(["投诉", "求助", "咨询", "建议"]), "12345热线",
                filed.strftime("%Y-%m-%d %H:%M:%S"),
                closed.strftime("%Y-%m-%d %H:%M:%S") if closed else "", status, reply,
                str(rng.randint(1, 5)) if reply and rng.random() < 0.5 else "",
                f"市民{i % 30000}" if person else "",
                f"139{i % 30000:08d}" if person else "",
            ])


def to_xlsx(source: Path, target: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    with source.open(encoding="utf-8", newline="") as rows:
        for row in csv.reader(rows):
            sheet.append(row)
    book.save(target)


def timed_import(path: Path) -> tuple[CaseImport, float]:
    imp = CaseImport(kind="cases", file_name=path.name, status=RUNNING, started_at=utcnow())
    db.session.add(imp)
    db.session.commit()
    started = time.perf_counter()
    run_import(imp, path.read_bytes())
    return imp, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--xlsx", action="store_true", help="import an Excel workbook")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name)
    url = (fresh_postgres_database(args.database_url, BENCH_DB) if args.database_url
           else f"sqlite:///{folder / 'bench.db'}")
    app = create_app({
        "INSTANCE_PATH": tmp.name, "DATABASE_URL": url, "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING", "SEARCH_CATCH_UP": "off", "MAIL_BACKEND": "log",
    })
    path = folder / "history.csv"
    started = time.perf_counter()
    write_file(path, args.rows)
    if args.xlsx:
        to_xlsx(path, folder / "history.xlsx")
        path = folder / "history.xlsx"
    print(f"wrote {args.rows} rows ({path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s")
    with app.app_context():
        upgrade()
        catalogue()
        for label in ("first import", "same file again"):
            imp, seconds = timed_import(path)
            assert imp.status == "done", imp.errors
            print(f"{db.engine.dialect.name} {label}: {imp.created_rows} created, "
                  f"{imp.skipped_rows} skipped in {seconds:.1f} s "
                  f"({imp.total_rows / seconds:,.0f} rows/s)")
        print(f"cases in the database: {db.session.scalar(select(func.count(Case.id)))}")
        db.engine.dispose()
    if args.database_url:
        drop_postgres_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
