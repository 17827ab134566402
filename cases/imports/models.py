"""An import of history from another system: one row per file, with its progress and errors.

Cases made by an import carry ``import_id`` (they are marked as imported) and an
``import_key`` (a hash of the row's content), so importing the same file twice makes nothing
twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, db, utcnow
from portal.models import User


class CaseImport(db.Model):
    """One file of cases (``kind`` "cases") or of a category tree (``kind`` "categories").

    ``status`` runs queued → running → done | failed; a failed import leaves no case behind
    (``errors`` says which lines and why: a list of ``{"line": n, "reason": text}``).
    """

    __tablename__ = "case_imports"
    __table_args__ = (Index("ix_case_imports_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="cases", server_default="cases")
    file_name: Mapped[str] = mapped_column(String(255))
    # Where the uploaded file waits in the instance folder until it is processed.
    stored_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="queued", server_default="queued")
    create_categories: Mapped[bool] = mapped_column(Boolean, default=False)
    total_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    errors: Mapped[list | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()
