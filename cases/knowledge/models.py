"""Knowledge-base answers, who read them, and whether they helped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.catalogue.models import Category
from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.models import User

# An answer's life: written (draft), sent for review, published, taken down.
ANSWER_STATUSES = ("draft", "review", "published", "unpublished")


class KnowledgeAnswer(TimestampMixin, db.Model):
    """One answer to a question people ask (how to..., who handles..., what to do if...)."""

    __tablename__ = "kb_answers"
    __table_args__ = (Index("ix_kb_answers_status_published_at", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN", server_default="zh_CN")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    view_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helpful_no: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    category: Mapped[Category | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __mapper_args__ = {"version_id_col": version}


class KnowledgeView(db.Model):
    """Someone opened an answer; from the filing page, and whether they filed after all.

    ``visitor`` is a keyed hash of the browser session (never the session id itself), so
    a view and a later filing of the same visitor can be matched without an account.
    """

    __tablename__ = "kb_views"
    __table_args__ = (
        Index("ix_kb_views_answer_id_created_at", "answer_id", "created_at"),
        Index("ix_kb_views_visitor_created_at", "visitor", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("kb_answers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visitor: Mapped[str] = mapped_column(String(64))
    from_filing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    filed_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeFeedback(db.Model):
    """"Was this helpful?": one vote per visitor and answer."""

    __tablename__ = "kb_feedback"
    __table_args__ = (
        UniqueConstraint("answer_id", "visitor", name="uq_kb_feedback_answer_visitor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("kb_answers.id", ondelete="CASCADE"))
    visitor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
