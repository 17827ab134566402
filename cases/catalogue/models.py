"""The service catalogue's tables: the category tree with its deadlines, routing rules, the
holiday calendar. ``cases.models`` re-exports them (cases refer to their category)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    true,
)
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

    # What Open311's service list says of a leaf (and what smart intake learns from).
    description_zh: Mapped[str] = mapped_column(String(500), default="", server_default="")
    description_en: Mapped[str] = mapped_column(String(500), default="", server_default="")
    keywords: Mapped[str] = mapped_column(String(500), default="", server_default="")

    parent: Mapped[Category | None] = relationship(remote_side=[id])
    department: Mapped[Department | None] = relationship()
    questions: Mapped[list[CategoryQuestion]] = relationship(
        back_populates="category", order_by="CategoryQuestion.position, CategoryQuestion.id"
    )

    @property
    def path_name(self) -> str:
        """``Parent › Child``, in the page's language."""
        return f"{self.parent.name} › {self.name}" if self.parent else self.name


class QuestionType(LabelledEnum):
    """The kinds of extra question a category asks (Open311's attribute datatypes)."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLE_CHOICE = "singlevaluelist"
    MULTIPLE_CHOICE = "multivaluelist"


QUESTION_TYPE_LABELS = bind_labels(
    QuestionType,
    {
        QuestionType.STRING: _l("Short text"),
        QuestionType.NUMBER: _l("Number"),
        QuestionType.DATETIME: _l("Date and time"),
        QuestionType.TEXT: _l("Long text"),
        QuestionType.SINGLE_CHOICE: _l("One choice from a list"),
        QuestionType.MULTIPLE_CHOICE: _l("Several choices from a list"),
    },
)


class CategoryQuestion(db.Model):
    """An extra question a category asks when a request is filed (the web form asks it, and
    Open311 publishes it as the service definition's attribute ``code``).

    ``choices`` holds ``[{"key": ..., "name_zh": ..., "name_en": ...}]`` for list types.
    """

    __tablename__ = "category_questions"
    __table_args__ = (UniqueConstraint("category_id", "code", name="uq_category_questions_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[QuestionType] = mapped_column(enum_column(QuestionType))
    question_zh: Mapped[str] = mapped_column(String(300))
    question_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    choices: Mapped[list | None] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    category: Mapped[Category] = relationship(back_populates="questions")


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
