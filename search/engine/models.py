"""The indexer's own rows: where each backend stands in the change feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db, utcnow


class SearchCursor(db.Model):
    """The last change-feed id a backend's index has taken in (``name``: the backend)."""

    __tablename__ = "search_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_change_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The PostgreSQL backend's table registers with the shared metadata on every database
# (migrations and models agree everywhere; on SQLite it stays empty).
from search.engine import pg_models  # noqa: E402,F401
