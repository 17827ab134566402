"""The database object and the mixins every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import abort
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone, so values are normalised to naive UTC on the way in.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

M = TypeVar("M")


class TimestampMixin:
    """``created_at`` / ``updated_at`` set by callables at write time."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def get_or_404(model: type[M], ident: Any) -> M:
    """The row with primary key ``ident`` or a 404."""
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def render_migration_type(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic hook: write our column types as plain SQLAlchemy types in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


class unindexed(FunctionElement):  # noqa: N801 (used like a SQL function)
    """A column SQLite must not walk an index of, to order by it (``ORDER BY +col``).

    SQLite walks the sort column's index to skip the sort even when the WHERE keeps a
    handful of rows of a big table (a queue of 20 cases among 1,000,000: a full scan);
    the unary plus is SQLite's documented way to say no, so it takes the WHERE's index
    and sorts the few rows. Other databases get the plain column."""

    inherit_cache = True
    name = "unindexed"


@compiles(unindexed)
def _plain_column(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_on_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)
