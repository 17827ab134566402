"""The PostgreSQL backend's table: one row per indexed document (``search_documents``).

Only the ``postgresql`` backend reads or writes it. The table is part of the shared
metadata so that migrations and models agree on every database; on SQLite its columns
fall back to portable types (text, JSON) and it stays empty.

- ``tsv``: the document's lexemes with positions and weights, built in Python from the
  engine's analysis (``search.engine.text``) — PostgreSQL has no Chinese parser, so the
  text is segmented before it reaches the database (``search.engine.pg_text``);
- ``texts``: the plain text of each field, for highlighted snippets;
- ``filters`` / ``dates``: JSON objects for filtering, facets, date ranges and sorting
  (filter values are always lists; dates are fixed-width UTC ISO strings);
- ``access``: the keys of those who may find the document (GIN, ``&&``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db, utcnow

TSV = Text().with_variant(TSVECTOR(), "postgresql")
JSON_OBJECT = JSON().with_variant(JSONB(), "postgresql")
KEYS = JSON().with_variant(ARRAY(Text()), "postgresql")


class SearchDocument(db.Model):
    """One document of the PostgreSQL search backend (``kind``, ``doc_id``)."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        Index("ix_search_documents_access", "access", postgresql_using="gin"),
        Index(
            "ix_search_documents_filters",
            "filters",
            postgresql_using="gin",
            postgresql_ops={"filters": "jsonb_path_ops"},
        ),
        # A search reads its window of matches newest (or oldest) first along this index
        # when its words are common (postgres_backend.MATCH_WINDOW).
        Index(
            "ix_search_documents_kind_created_at",
            "kind",
            text("(dates ->> 'created_at')"),
            "doc_id",
        ).ddl_if(dialect="postgresql"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    doc_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    tsv: Mapped[str] = mapped_column(TSV, nullable=False)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON_OBJECT, nullable=False)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON_OBJECT, nullable=False)
    dates: Mapped[dict[str, Any]] = mapped_column(JSON_OBJECT, nullable=False)
    access: Mapped[list[str]] = mapped_column(KEYS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
