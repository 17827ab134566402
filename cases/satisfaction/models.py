"""Ratings of answers (好差评), follow-up calls (回访), bad reviews (差评) and their settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models import Case, CaseReply
from cases.satisfaction.vocabulary import (
    BadReviewStage,
    RatingSource,
    RatingStatus,
    Solved,
)
from citizens.models import Client
from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.models import Department, User, enum_column

# The ratings shown in lists and figures (given or defaulted, with a level).
SHOWN_WHERE = "status IN ('rated', 'defaulted') AND level IS NOT NULL"


class Rating(TimestampMixin, db.Model):
    """One answer's rating: asked for when the answer is published, given (or defaulted) once.

    A later answer to the same case (after a redo, a rectification or a reopening) gets a
    rating of its own; earlier ones stay as history. ``department_id`` is the department
    whose answer is rated (NULL: answered at intake by the service centre).
    """

    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_status_remind_at", "status", "remind_at"),
        Index("ix_ratings_status_default_at", "status", "default_at"),
        Index("ix_ratings_department_id_rated_at", "department_id", "rated_at"),
        Index("ix_ratings_client_id_requested_at", "client_id", "requested_at"),
        Index("ix_ratings_level_rated_at", "level", "rated_at"),
        # On PostgreSQL it holds what 三率 counts (INCLUDE), so a period's ratings are
        # counted from it alone; SQLite reads the index below (migration 0019).
        Index("ix_ratings_rated_at_counted", "rated_at",
              postgresql_include=["department_id", "status", "set_aside", "level", "solved"]),
        # 三率's counts of a period read from the index alone (reports, migration 0016).
        Index("ix_ratings_department_id_rated_at_counted", "department_id", "rated_at",
              "status", "set_aside", "level", "solved"),
        # The ratings list, newest first (``queries.rated_on``): its first page is the end
        # of this index, not a sort of every rating (migration 0017).
        Index("ix_ratings_shown_rated_on", text("coalesce(rated_at, default_at)"), "id",
              sqlite_where=text(SHOWN_WHERE), postgresql_where=text(SHOWN_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_replies.id", ondelete="SET NULL"), unique=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[RatingStatus] = mapped_column(
        enum_column(RatingStatus), default=RatingStatus.PENDING
    )
    # The link's secret part: the token is signed over (id, nonce), never stored.
    nonce: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an unrated answer takes the default level (or stays unrated for good).
    default_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    level: Mapped[int | None] = mapped_column(Integer)  # 1..5, see vocabulary.LEVELS
    solved: Mapped[Solved | None] = mapped_column(enum_column(Solved))
    dimensions: Mapped[dict | None] = mapped_column(JSON)  # {dimension key: 1..5}
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[RatingSource | None] = mapped_column(enum_column(RatingSource))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A supervisor upheld the department's appeal: kept on record, no longer counted.
    set_aside: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    unreachable_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    case: Mapped[Case] = relationship()
    reply: Mapped[CaseReply | None] = relationship()
    client: Mapped[Client] = relationship()
    department: Mapped[Department | None] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    bad_review: Mapped[BadReview | None] = relationship(
        back_populates="rating", uselist=False, foreign_keys="BadReview.rating_id"
    )

    @property
    def is_bad(self) -> bool:
        """差评: 不满意 or 非常不满意."""
        return self.level is not None and self.level <= 2

    @property
    def counts(self) -> bool:
        """Counted in the figures: given or defaulted, and not set aside."""
        return self.level is not None and not self.set_aside


class FollowUpCall(db.Model):
    """One follow-up call (回访) to the client about an answer: reached or not."""

    __tablename__ = "follow_up_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(
        ForeignKey("ratings.id", ondelete="CASCADE"), index=True
    )
    caller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reached: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rating: Mapped[Rating] = relationship()
    caller: Mapped[User] = relationship()


class BadReview(TimestampMixin, db.Model):
    """A 差评 followed through: verified by a call, then fixed, rectified, explained or appealed.

    Every step is also a line on the case's timeline (who, when, why); this row holds where
    the review stands, for the ledger (整改台账) and the sweep.
    """

    __tablename__ = "bad_reviews"
    __table_args__ = (
        Index("ix_bad_reviews_stage_due_at", "stage", "due_at"),
        Index("ix_bad_reviews_department_id_created_at", "department_id", "created_at"),
        # The monthly report's 差评 of a month by outcome, for the city: read from the
        # index alone (it scanned the table; migration 0019).
        Index("ix_bad_reviews_created_at_counted", "created_at", "outcome", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(
        ForeignKey("ratings.id", ondelete="CASCADE"), unique=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    stage: Mapped[BadReviewStage] = mapped_column(
        enum_column(BadReviewStage), default=BadReviewStage.VERIFYING
    )
    # The running deadline of the stage (verification, then rectification); the sweep
    # marks it overdue once (``overdue_at``).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verification_note: Mapped[str | None] = mapped_column(Text)
    # fixed | rectify | explain | appeal (vocabulary.RESOLUTIONS)
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rectify_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it ended (vocabulary.OUTCOMES): fixed | rectified | explained | set_aside.
    outcome: Mapped[str | None] = mapped_column(String(20))
    appeal_evidence: Mapped[str | None] = mapped_column(Text)
    appealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_upheld: Mapped[bool | None] = mapped_column(Boolean)
    appeal_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_decision_note: Mapped[str | None] = mapped_column(Text)
    # The rating of the answer given after rectification (the client's second word).
    rerating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)

    rating: Mapped[Rating] = relationship(foreign_keys=[rating_id], back_populates="bad_review")
    rerating: Mapped[Rating | None] = relationship(foreign_keys=[rerating_id])
    case: Mapped[Case] = relationship()
    department: Mapped[Department | None] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    appealed_by: Mapped[User | None] = relationship(foreign_keys=[appealed_by_id])
    appeal_decided_by: Mapped[User | None] = relationship(foreign_keys=[appeal_decided_by_id])

    # Two people acting on the same review at once: the second is refused (409).
    __mapper_args__ = {"version_id_col": version}


class RatingDimension(db.Model):
    """One aspect rated besides the overall level (speed, attitude, competence...)."""

    __tablename__ = "rating_dimensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # the form field's name
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh


class SatisfactionSettings(db.Model):
    """The deployment's rules for ratings (one row; provinces differ)."""

    __tablename__ = "satisfaction_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Days after the answer until the one reminder goes out (0: no reminder).
    remind_after_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # After this many days without a rating the answer takes ``default_level`` (NULL: it
    # stays unrated); counted in working or natural days.
    default_after_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    default_working_days: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    default_level: Mapped[int | None] = mapped_column(Integer, default=3)
    # How long a rating link works (natural days).
    link_valid_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # 差评: working days to verify by a call, and to rectify (限期整改).
    verify_working_days: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    rectify_working_days: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
