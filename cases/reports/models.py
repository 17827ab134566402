"""What the figures keep: the ranking's rules, hot-spot alerts, daily totals of filings and
the monthly counts of ratings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement

from cases.catalogue.models import Category
from cases.models import CaseEvent
from portal.db import UTCDateTime, db, utcnow
from portal.models import District, User


class ReportSettings(db.Model):
    """How 三率 and the composite score are counted (one row; admins keep it)."""

    __tablename__ = "report_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Weights of the composite score (points out of 100): response, resolution, satisfaction.
    weight_response: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    weight_resolution: Mapped[int] = mapped_column(Integer, default=35, server_default="35")
    weight_satisfaction: Mapped[int] = mapped_column(Integer, default=35, server_default="35")
    # The lowest level that counts as satisfied (3 = 基本满意 or better).
    satisfied_from_level: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # Whether "partly solved" counts as solved in the resolution rate.
    partly_counts_as_solved: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Whether defaulted ratings (no rating given in time) count in the rates.
    count_defaulted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HotspotAlert(db.Model):
    """A category in a district far above its own recent baseline (early warning)."""

    __tablename__ = "hotspot_alerts"
    __table_args__ = (
        UniqueConstraint("district_id", "category_id", "window_end", name="uq_hotspot_alert"),
        Index("ix_hotspot_alerts_acknowledged_at_detected_at", "acknowledged_at", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)  # the last local day counted
    count: Mapped[int] = mapped_column(Integer)  # cases in the window
    baseline: Mapped[float] = mapped_column(Float)  # expected cases in a window that long
    threshold: Mapped[float] = mapped_column(Float)  # the count it had to reach
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    district: Mapped[District] = relationship()
    category: Mapped[Category] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()


class CaseTotalKeys:
    """What a total of filings is kept by besides its day or month, and the count."""

    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DailyCaseTotal(CaseTotalKeys, db.Model):
    """Cases filed per local day, category, district, channel and type.

    Kept up to date as cases are filed (``cases.reports.totals``) so volumes over months and
    years read a few hundred rows, not a million cases; ``flask reports rebuild-totals``
    recomputes them, and a test holds them equal to the live count.
    """

    __tablename__ = "daily_case_totals"

    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)


class MonthlyCaseTotal(CaseTotalKeys, db.Model):
    """The daily totals summed per local month (``month``: its first day): what volumes
    over quarters and years read for their whole months, a twelfth of the rows. Kept with
    the daily totals by the same writers (``cases.reports.totals``), rebuilt with them."""

    __tablename__ = "monthly_case_totals"
    # The key is the table itself on SQLite: a period's sums read consecutive rows.
    __table_args__ = {"sqlite_with_rowid": False}

    month: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)


class DailyCaseFlow(db.Model):
    """What adds up day by day about the cases' own columns, per local day and row key.

    ``dim`` names the grouping (department, staff, category, district: the case's
    department, assignee, category and district **of today**) and ``key`` the row; ``fact``
    is what is counted on ``day`` (``cases.reports.flows.FACTS``). ``since`` is the day the
    case was filed for ``ended_from`` (so "filed in the period and not ended by its end"
    adds up) and ``day`` itself otherwise. Kept up to date as cases change
    (``cases.reports.flows``), rebuilt by ``flask reports rebuild-totals``; a test holds
    the workload's figures from it equal to the live computation.
    """

    __tablename__ = "daily_case_flows"
    # The key is the table itself on SQLite: a period's sums read consecutive rows.
    __table_args__ = {"sqlite_with_rowid": False}

    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    fact: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReportDuration(db.Model):
    """One duration the workload ranks for its medians: a sign-for (``kind`` "sign": from
    the case's last dispatch before it to the sign-for, ``ref_id`` the timeline line) or a
    closing (``kind`` "close": from filing to 办结, ``ref_id`` the case), with the row keys
    it counts under (``figures_workload``). Kept per case as cases and timelines change
    (``cases.reports.timings``), ordered by ``at`` so a period's durations are one range.
    """

    __tablename__ = "report_durations"
    __table_args__ = (
        Index("ix_report_durations_case_id", "case_id"),
        # One per grouping: the durations of one key and bucket in a period are one range
        # of it, with their length (``duration_counts`` ranks them from the index alone).
        *(Index(f"ix_report_durations_{column}_bucket", "kind", column, "bucket", "at",
                "micros")
          for column in ("department_id", "staff_id", "category_id", "district_id")),
        {"sqlite_with_rowid": False},
    )

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)  # the later moment
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer)
    earlier: Mapped[datetime] = mapped_column(UTCDateTime)
    micros: Mapped[int] = mapped_column(BigInteger)  # at − earlier, whole microseconds
    # ``duration_counts.bucket_of(micros)``: its range of lengths in the histograms.
    bucket: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    department_id: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(Integer)
    category_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)


class ReportDurationCount(db.Model):
    """How many kept durations of a kind fall in each range of lengths (``bucket``), per
    grouping (``dim``), row key (0: none) and local month (``months`` 1, ``start`` its
    first day) or local year (``months`` 12): histograms that add up, so a period's
    medians are found from sums (``cases.reports.duration_counts``). Kept with the
    durations, rebuilt by ``flask reports rebuild-totals``.
    """

    __tablename__ = "report_duration_counts"
    __table_args__ = {"sqlite_with_rowid": False}

    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    months: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RatingMonth(db.Model):
    """How many ratings 三率 may count were given (or defaulted) in a local month, per
    department answered for (0: at intake), status, level and whether it was solved
    ("": not said). Only ratings given or defaulted, with a level and not set aside; the
    admins' rules (which status, which levels, "partly" or not) are applied when read, so
    changing them needs no rebuild. Kept as ratings are written
    (``cases.reports.rating_months``), rebuilt by ``flask reports rebuild-totals``; a test
    holds the counts read from it equal to the live ones."""

    __tablename__ = "report_rating_months"
    __table_args__ = {"sqlite_with_rowid": False}

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first local day
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    solved: Mapped[str] = mapped_column(String(12), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PublicStatsSnapshot(db.Model):
    """The public statistics page's figures as last computed (one row, ``id`` 1): JSON
    counts and department names only (``cases.reports.stats``). Written by the sweep and,
    when a reader finds it stale, by one background refresh (``claimed_at``: since when a
    process is computing it); ``/stats`` only reads it, so no visitor waits for the
    computation."""

    __tablename__ = "report_public_stats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    etag: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class department_of(FunctionElement):  # noqa: N801  (an SQL function, named like one)
    """SQL: the department a timeline line's ``details`` names (``{"department": id}``: a
    dispatch, routing or transfer handed the case to it), as an integer, NULL without one.

    Written the one way per database that ``ix_case_events_department`` holds it, so the
    index serves a department's dispatches of a period: SQLite matches an index on an
    expression only when the query's is the same (a bound JSON path, as ``details[...]``
    writes it, never matches), PostgreSQL when it is the same up to its casts.
    """

    type = Integer()
    name = "department_of"
    inherit_cache = True


@compiles(department_of)
def _department_of_sqlite(element, compiler, **kw) -> str:
    (details,) = element.clauses
    return f"json_extract({compiler.process(details, **kw)}, '$.department')"


@compiles(department_of, "postgresql")
def _department_of_postgresql(element, compiler, **kw) -> str:
    (details,) = element.clauses
    return f"(({compiler.process(details, **kw)} ->> 'department')::integer)"


# The steps that handed cases to one department in a period (the lists behind a year's
# cases received or dispatched, reports, migration 0021): only the lines that name a
# department are in it. Declared here, with the figures that read it, on the timeline.
# PostgreSQL reads an index on an expression alone only when it holds the expression's
# column too (``details``, a few bytes on these lines): else each line's row is read.
Index("ix_case_events_department", department_of(CaseEvent.details), CaseEvent.action,
      CaseEvent.created_at, CaseEvent.case_id,
      sqlite_where=department_of(CaseEvent.details).is_not(None),
      postgresql_where=department_of(CaseEvent.details).is_not(None),
      postgresql_include=["details"])
