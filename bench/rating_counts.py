"""三率's rating counts of a period, live from ``ratings`` against the monthly counts
(``cases.reports.rating_months``): the time of each and whether they are equal.

    .venv/bin/python bench/rating_counts.py --database /tmp/r13/1m.db
    .venv/bin/python bench/rating_counts.py --database postgresql+psycopg://postgres@127.0.0.1:5432/r13_1m

Load the data with ``bench/reports.py --keep`` first (its loader keeps the counts).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from cases.reports.figures_rates import rating_counts, rating_rows  # noqa: E402
from cases.reports.periods import Period  # noqa: E402
from cases.reports.settings import report_settings  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="SQLite file or database URL")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = args.database if "://" in args.database else f"sqlite:///{os.path.abspath(args.database)}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
                      "SEARCH_CATCH_UP": "off", "INSTANCE_PATH": tempfile.mkdtemp()})
    today = date.today()
    periods = [Period.containing("year", today),
               Period.containing("year", today.replace(year=today.year - 1, day=1)),
               Period.containing("month", today.replace(day=1)),
               Period.custom(today.replace(month=1, day=15), today)]
    with app.app_context():
        settings = report_settings()
        for period in periods:
            for _ in range(args.rounds):
                started = time.perf_counter()
                live = {row[0]: tuple(int(v or 0) for v in row[1:])
                        for row in db.session.execute(rating_counts(*period.bounds(), settings))}
                middle = time.perf_counter()
                kept = {row[0]: tuple(row[1:]) for row in rating_rows(period, settings)}
                done = time.perf_counter()
                print(f"{period.kind:7} {period.first}..{period.last}: live "
                      f"{(middle - started) * 1000:7.1f} ms, kept {(done - middle) * 1000:6.1f}"
                      f" ms, {sum(v[2] for v in live.values())} ratings, equal: {live == kept}")


if __name__ == "__main__":
    main()
