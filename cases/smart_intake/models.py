"""Smart intake's tables: trained model versions, suggestions shown and what became of
them, the words that signal danger, and the admins' settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.vocabulary import Priority
from portal.db import UTCDateTime, db, utcnow
from portal.models import User, enum_column


class IntakeModelVersion(db.Model):
    """One trained model: its file in the instance folder and how well it did on the
    held-out, newer slice of the history. Exactly one version is active at a time."""

    __tablename__ = "intake_model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    trained_cases: Mapped[int] = mapped_column(Integer, default=0)
    tested_cases: Mapped[int] = mapped_column(Integer, default=0)
    # The newest filing date of the training slice: test cases are all filed after it.
    split_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    top1: Mapped[float | None] = mapped_column(Float)
    top3: Mapped[float | None] = mapped_column(Float)
    # The plain TF-IDF + linear classifier on the same split, for comparison.
    baseline_top1: Mapped[float | None] = mapped_column(Float)
    baseline_top3: Mapped[float | None] = mapped_column(Float)
    # Per category: {"<category id>": {"cases": n, "top1": x}}; and the confusion pairs:
    # [{"actual": id, "predicted": id, "count": n}, ...], most frequent first.
    per_category: Mapped[dict | None] = mapped_column(JSON)
    confusions: Mapped[list | None] = mapped_column(JSON)
    trained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    trained_by: Mapped[User | None] = relationship(foreign_keys=[trained_by_id])


class IntakeSuggestion(db.Model):
    """Suggestions shown once (to a citizen, a clerk or an API caller) and what became of
    them: ``outcome`` is shown, taken, overridden or auto_routed; ``taken_rank`` is the
    place (1-3) of the one taken. ``token`` goes back with the form so filing can tell."""

    __tablename__ = "intake_suggestions"
    __table_args__ = (
        Index("ix_intake_suggestions_created_at", "created_at"),
        Index("ix_intake_suggestions_outcome_created_at", "outcome", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    surface: Mapped[str] = mapped_column(String(20))  # citizen, clerk, api
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    model_version: Mapped[int | None] = mapped_column(Integer)
    # [{"category_id": id, "department_id": id|None, "score": x}, ...], best first.
    suggested: Mapped[list] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outcome: Mapped[str] = mapped_column(String(20), default="shown", server_default="shown")
    taken_rank: Mapped[int | None] = mapped_column(Integer)
    chosen_category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UrgencyWord(db.Model):
    """A word that signals danger or distress (燃气泄漏, 坠落, 轻生 ...): a request that holds
    it is flagged and suggested at ``priority``. Admins keep the list."""

    __tablename__ = "urgency_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(50), unique=True)
    priority: Mapped[Priority] = mapped_column(
        enum_column(Priority), default=Priority.URGENT, server_default=Priority.URGENT.value
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntakeSettings(db.Model):
    """One row: whether confident suggestions may route a case by themselves, above which
    score, and how often the sweep retrains."""

    __tablename__ = "intake_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    auto_route: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    auto_route_threshold: Mapped[float] = mapped_column(Float, default=0.9, server_default="0.9")
    retrain_every_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
