"""Cases (诉求), the category tree and each case's timeline."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizens.models import Client
from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.i18n import LocalisedName
from portal.models import Department, District, User, enum_column


class CaseType(enum.StrEnum):
    ENQUIRY = "enquiry"
    HELP = "help"
    COMPLAINT = "complaint"
    TIPOFF = "tipoff"
    SUGGESTION = "suggestion"
    PRAISE = "praise"

    @property
    def label(self) -> str:
        return str(CASE_TYPE_LABELS[self])


CASE_TYPE_LABELS = {
    CaseType.ENQUIRY: _l("Enquiry"),
    CaseType.HELP: _l("Request for help"),
    CaseType.COMPLAINT: _l("Complaint"),
    CaseType.TIPOFF: _l("Tip-off"),
    CaseType.SUGGESTION: _l("Suggestion"),
    CaseType.PRAISE: _l("Praise"),
}


class Channel(enum.StrEnum):
    WEB = "web"
    MOBILE = "mobile"
    PHONE = "phone"
    WALK_IN = "walk_in"
    LETTER = "letter"
    EMAIL = "email"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.WEB: _l("Web"),
    Channel.MOBILE: _l("Mobile web"),
    Channel.PHONE: _l("Phone hotline"),
    Channel.WALK_IN: _l("Service window"),
    Channel.LETTER: _l("Letter"),
    Channel.EMAIL: _l("E-mail"),
}


class CaseStatus(enum.StrEnum):
    """Every state of DOMAIN.md's life cycle; ``cases.workflow`` says how they connect."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    REPLIED = "replied"
    CLOSED = "closed"
    NOT_ACCEPTED = "not_accepted"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return str(CASE_STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        return self not in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN, CaseStatus.MERGED}
)

CASE_STATUS_LABELS = {
    CaseStatus.SUBMITTED: _l("Submitted"),
    CaseStatus.ACCEPTED: _l("Accepted"),
    CaseStatus.DISPATCHED: _l("Dispatched"),
    CaseStatus.SIGNED: _l("Signed for"),
    CaseStatus.IN_PROGRESS: _l("In progress"),
    CaseStatus.WAITING: _l("Waiting for client"),
    CaseStatus.REPLIED: _l("Replied"),
    CaseStatus.CLOSED: _l("Closed"),
    CaseStatus.NOT_ACCEPTED: _l("Not accepted"),
    CaseStatus.WITHDRAWN: _l("Withdrawn"),
    CaseStatus.MERGED: _l("Merged"),
}


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

    parent: Mapped[Category | None] = relationship(remote_side=[id])
    department: Mapped[Department | None] = relationship()

    @property
    def path_name(self) -> str:
        """``Parent › Child``, in the page's language."""
        return f"{self.parent.name} › {self.name}" if self.parent else self.name


class CaseNumberCounter(db.Model):
    """The last tracking number handed out per year (``2026-000123``)."""

    __tablename__ = "case_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Case(TimestampMixin, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_created_at", "status", "created_at"),
        Index("ix_cases_department_id_status", "department_id", "status"),
        Index("ix_cases_client_id_created_at", "client_id", "created_at"),
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
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship()
    district: Mapped[District] = relationship()
    client: Mapped[Client] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    department: Mapped[Department | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    replies: Mapped[list[CaseReply]] = relationship(
        back_populates="case", order_by="CaseReply.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.status}>"


class CaseEvent(db.Model):
    """One line of a case's timeline: who did what, when, from which state to which."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    to_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    note: Mapped[str | None] = mapped_column(Text)
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
