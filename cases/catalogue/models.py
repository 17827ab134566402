"""The service catalogue's tables: the category tree with its deadlines, routing rules, the
holiday calendar. ``cases.models`` re-exports them (cases refer to their category)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, db, utcnow
from portal.i18n import LabelledEnum, LocalisedName, bind_labels
from portal.models import Department, District, enum_column


class TimeUnit(LabelledEnum):
    """Deadlines count in working hours or working days."""

    HOURS = "hours"
    DAYS = "days"


TIME_UNIT_LABELS = bind_labels(
    TimeUnit, {TimeUnit.HOURS: _l("working hours"), TimeUnit.DAYS: _l("working days")}
)


class Category(LocalisedName, db.Model):
    """A node of the service catalogue (派单目录); leaves are what cases are filed under."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Deadlines: signing for (from dispatch) and replying (from first dispatch).
    sign_amount: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    sign_unit: Mapped[TimeUnit] = mapped_column(
        enum_column(TimeUnit), default=TimeUnit.HOURS, server_default=TimeUnit.HOURS.value
    )
    reply_amount: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    reply_unit: Mapped[TimeUnit] = mapped_column(
        enum_column(TimeUnit), default=TimeUnit.DAYS, server_default=TimeUnit.DAYS.value
    )

    parent: Mapped[Category | None] = relationship(remote_side=[id])
    department: Mapped[Department | None] = relationship()

    @property
    def path_name(self) -> str:
        """``Parent › Child``, in the page's language."""
        return f"{self.parent.name} › {self.name}" if self.parent else self.name


class RoutingRule(db.Model):
    """Category (and optionally district) → department: how new cases are dispatched.

    A rule with a district wins over one without; among equals the lowest position wins.
    """

    __tablename__ = "routing_rules"
    __table_args__ = (
        Index("ix_routing_rules_category_id_district_id", "category_id", "district_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    category: Mapped[Category] = relationship()
    district: Mapped[District | None] = relationship()
    department: Mapped[Department] = relationship()


class CalendarDay(db.Model):
    """An exception to the plain week: a holiday on a weekday, or a make-up working day (调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(20), default="admin")  # "library" or "admin"


class CalendarYear(db.Model):
    """A year whose holidays and make-up days are published and loaded.

    Years without a row count weekends only, and the admin pages say so.
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(40))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
