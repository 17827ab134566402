"""Cases (诉求) and each case's timeline, replies, attachments and links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The catalogue's tables live in its sub-package; cases and callers read them from here too.
from cases.catalogue.models import (  # noqa: F401  (re-exported)
    TIME_UNIT_LABELS,
    CalendarDay,
    CalendarYear,
    Category,
    CategoryQuestion,
    QuestionType,
    RoutingRule,
    TimeUnit,
)
from cases.imports.models import CaseImport  # noqa: F401  (cases.import_id points at it)
from cases.vocabulary import (  # noqa: F401  (re-exported)
    CASE_STATUS_LABELS,
    CASE_TYPE_LABELS,
    CHANNEL_LABELS,
    DUE_STATE_LABELS,
    EXTENSION_STATUS_LABELS,
    FINAL_STATUSES,
    PRIORITY_LABELS,
    PRIORITY_RANK,
    CaseStatus,
    CaseType,
    Channel,
    DueState,
    ExtensionStatus,
    Priority,
)
from citizens.models import Client
from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.models import Department, District, User, enum_column


class CaseNumberCounter(db.Model):
    """The last tracking number handed out per year (``2026-000123``)."""

    __tablename__ = "case_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


def _open_case_indexes() -> tuple[Index, ...]:
    """Partial indexes behind the staff queues (``cases.queries.queue_query``)."""
    open_states = ("status IN ('submitted', 'accepted', 'dispatched', 'in_progress', "
                   "'waiting', 'replied')")
    with_department = "status IN ('dispatched', 'in_progress', 'waiting')"
    return (
        Index("ix_cases_open_assignee_id_due_at", "assignee_id", "due_at",
              **_where(open_states)),  # my cases
        Index("ix_cases_open_department_id_due_at", "department_id", "due_at",
              **_where(with_department)),  # the department's
        Index("ix_cases_unassigned_department_id_created_at", "department_id", "created_at",
              **_where(f"{with_department} AND assignee_id IS NULL")),  # nobody's yet
        Index("ix_cases_answered_replied_at", "replied_at",
              **_where("status = 'replied'")),  # answered, to close
    )


class Case(TimestampMixin, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_created_at", "status", "created_at"),
        # Figures (cases/reports): what was filed, answered, closed in a period.
        # With updated_at and id: the hot-spot words' fingerprint of each day's cases (how
        # many, the newest id, the latest change) is read from the index alone (SQLite
        # keeps the rowid in every index; PostgreSQL needs the id in it).
        Index("ix_cases_created_at_updated_at_id", "created_at", "updated_at", "id"),
        # The cases behind a figure, found from its steps (a department's year: ~28,000):
        # each one's date and what the reader's rules ask, without reading its row.
        Index("ix_cases_id_created_at", "id", "created_at", "anonymous", "department_id"),
        Index("ix_cases_replied_at", "replied_at"),
        Index("ix_cases_reply_due_at", "reply_due_at"),  # overdue today (reports)
        Index("ix_cases_closed_at", "closed_at"),
        Index("ix_cases_department_id_status", "department_id", "status"),
        Index("ix_cases_client_id_created_at", "client_id", "created_at"),
        Index("ix_cases_due_at", "due_at"),
        Index("ix_cases_due_soon_at", "due_soon_at"),
        Index("ix_cases_department_id_due_at", "department_id", "due_at"),
        Index("ix_cases_assignee_id_due_at", "assignee_id", "due_at"),
        Index("ix_cases_supervised_due_at", "supervised", "due_at"),
        # Look-alike open cases of a category and district, newest first (duplicates).
        Index(
            "ix_cases_category_id_district_id_created_at",
            "category_id",
            "district_id",
            "created_at",
        ),
        # Almost every row is NULL: a partial index keeps the planner's statistics honest.
        Index(
            "ix_cases_merged_into_id",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
        # A department's clients (the client list's scope for department staff).
        Index(
            "ix_cases_department_id_anonymous_client_id", "department_id", "anonymous", "client_id"
        ),
        # The queues read a few open cases among a million closed ones: partial indexes of
        # the open cases, in each queue's order, so a page is the first rows of one index
        # (without them PostgreSQL walks a whole department's or assignee's history).
        *_open_case_indexes(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    type: Mapped[CaseType] = mapped_column(enum_column(CaseType))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.WEB)
    status: Mapped[CaseStatus] = mapped_column(
        enum_column(CaseStatus), default=CaseStatus.SUBMITTED
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    priority: Mapped[Priority] = mapped_column(
        enum_column(Priority), default=Priority.NORMAL, server_default=Priority.NORMAL.value
    )
    # Deadlines. ``due_at`` is whichever deadline runs now (signing for while
    # dispatched, replying while in progress); NULL while nothing runs or the
    # clock is paused. Queues and the sweep read only ``due_at``.
    sign_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the running deadline starts to count as near: a share of its length, so a
    # 2-hour sign-for deadline warns late and a 15-day reply deadline a day ahead.
    due_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_state: Mapped[DueState] = mapped_column(
        enum_column(DueState), default=DueState.ON_TIME, server_default=DueState.ON_TIME.value
    )
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Counters behind escalation (3 redos, 3 departments) and the urging record.
    redo_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    departments_passed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    supervised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str | None] = mapped_column(String(40))
    # A tip-off filed anonymously: only supervisors may see who filed it.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The public lookup's secret code (shown once at filing), hashed like a password.
    tracking_code_hash: Mapped[str | None] = mapped_column(String(255))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # Bumped by every write to the row (SQLAlchemy's version counter): of two people acting
    # on the same case at the same instant, the second one's UPDATE matches no row and is
    # refused (StaleDataError -> 409), so each step has exactly one winner.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
    # Where it is (Open311's lat/long, address and address id; optional on every channel).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    address_id: Mapped[str | None] = mapped_column(String(100))
    # Brought in from another system's history (``cases.imports``): which import, and a
    # hash of the row's content so the same row imported twice makes one case.
    import_id: Mapped[int | None] = mapped_column(ForeignKey("case_imports.id"))
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    # Set by ``file_case`` so the filing page can show the code once; not a column.
    issued_tracking_code = None

    category: Mapped[Category] = relationship()
    district: Mapped[District] = relationship()
    client: Mapped[Client] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    department: Mapped[Department | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    merged_into: Mapped[Case | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    replies: Mapped[list[CaseReply]] = relationship(
        back_populates="case", order_by="CaseReply.id", cascade="all, delete-orphan"
    )
    assists: Mapped[list[CaseAssist]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    extension_requests: Mapped[list[ExtensionRequest]] = relationship(
        back_populates="case", order_by="ExtensionRequest.id", cascade="all, delete-orphan"
    )
    answers: Mapped[list[CaseAnswer]] = relationship(
        back_populates="case", order_by="CaseAnswer.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.status}>"


class CaseEvent(db.Model):
    """One line of a case's timeline: who did what, when, from which state to which."""

    __tablename__ = "case_events"
    # Figures read the timeline by step and time (sign-fors, returns, transfers of a month).
    __table_args__ = (
        Index("ix_case_events_action_created_at", "action", "created_at"),
        # A case's earlier steps of a kind (the last dispatch before a sign-for, 三率).
        Index("ix_case_events_case_id_action", "case_id", "action"),
        # Open311's servicerequestupdates read the timeline by time alone.
        Index("ix_case_events_created_at", "created_at"),
        # A staff member's (or a department's members') steps of a kind in a period: the
        # lists behind a year's sign-fors, returns, extensions (reports, migration 0019).
        Index("ix_case_events_action_actor_id_created_at", "action", "actor_id", "created_at",
              "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted: "staff", "client", "system" (the sweep, rules) or "api" (another system's
    # key); ``actor_id`` names the person or the API client's user when there is one.
    actor_kind: Mapped[str] = mapped_column(String(20), default="staff", server_default="staff")
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    to_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    note: Mapped[str | None] = mapped_column(Text)
    # What the step changed, as data rendered in the reader's language (ids, enum values:
    # {"category": [old_id, new_id], "department": id}); never text in one language.
    details: Mapped[dict | None] = mapped_column(JSON)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class CaseReply(db.Model):
    """A public reply (the client reads it) or an internal note (staff only)."""

    __tablename__ = "case_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship()


class CaseAssist(db.Model):
    """An assisting department (协办) on a case led by another."""

    __tablename__ = "case_assists"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="assists")
    department: Mapped[Department] = relationship()


class ExtensionRequest(db.Model):
    """A department's request for more working days (延期), decided by a supervisor."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(
        enum_column(ExtensionStatus), default=ExtensionStatus.PENDING, index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="extension_requests")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Attachment(db.Model):
    """A file attached to a case; the bytes live on disk (``ATTACHMENT_DIR``), not here."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))  # as the uploader named it, cleaned
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the bytes
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class CaseLink(db.Model):
    """Two related cases (not duplicates): each shows the other."""

    __tablename__ = "case_links"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplyTemplate(db.Model):
    """A canned public reply with placeholders, kept by a department head (or for all)."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()


class CaseAnswer(db.Model):
    """The filer's answer to one of the category's extra questions (``CategoryQuestion``).

    ``value`` is the text as given; a multiple choice holds its keys joined by commas.
    """

    __tablename__ = "case_answers"
    __table_args__ = (UniqueConstraint("case_id", "question_id", name="uq_case_answers"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("category_questions.id"))
    value: Mapped[str] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="answers")
    question: Mapped[CategoryQuestion] = relationship()
