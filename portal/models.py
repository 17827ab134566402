"""Accounts, roles, departments and districts."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.i18n import LabelledEnum, LocalisedName, bind_labels, pinyin_key


class Role(LabelledEnum):
    """Who a user is; decides what they may see and do."""

    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    CLERK = "clerk"
    HANDLER = "handler"
    DEPARTMENT_HEAD = "department_head"
    SUPERVISOR = "supervisor"
    OFFICIAL = "official"
    ADMIN = "admin"

    @property
    def is_client(self) -> bool:
        return self in CLIENT_ROLES

    @property
    def is_staff(self) -> bool:
        return self not in CLIENT_ROLES


CLIENT_ROLES = frozenset({Role.CITIZEN, Role.ENTERPRISE})
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})

ROLE_LABELS = bind_labels(
    Role,
    {
        Role.CITIZEN: _l("Citizen"),
        Role.ENTERPRISE: _l("Enterprise"),
        Role.CLERK: _l("Intake clerk"),
        Role.HANDLER: _l("Handler"),
        Role.DEPARTMENT_HEAD: _l("Department head"),
        Role.SUPERVISOR: _l("Supervisor"),
        Role.OFFICIAL: _l("Official"),
        Role.ADMIN: _l("Administrator"),
    },
)


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """An enum stored as its string value (portable across SQLite and PostgreSQL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Department(LocalisedName, TimestampMixin, db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    # pinyin of name_zh (``portal.i18n.pinyin_key``): lists sort as a Chinese reader expects
    sort_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class District(LocalisedName, db.Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150), default="")
    sort_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<District {self.code}>"


class User(UserMixin, TimestampMixin, db.Model):
    """A login: a client (citizen or enterprise representative) or a staff member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(10))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How a staff member hears of the cases that concern them (the inbox always).
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_by_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set by an admin's forced reset: the next sign-in must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    department: Mapped[Department | None] = relationship()
    # The clients room's record, named as a string: the core imports no room.
    client = relationship("Client")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_client(self) -> bool:
        return self.role.is_client

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


@event.listens_for(Department, "before_insert")
@event.listens_for(Department, "before_update")
@event.listens_for(District, "before_insert")
@event.listens_for(District, "before_update")
def _keep_sort_key(_mapper, _connection, target: Department | District) -> None:
    target.sort_key = pinyin_key(target.name_zh)


class AdminAction(db.Model):
    """One thing an administrator did (created or changed an account, a department...).

    Written in the same transaction as the change; the admin's "activity" page lists it.
    ``details`` holds what changed as data (field: [old, new]), rendered in the reader's
    language; never a password.
    """

    __tablename__ = "admin_actions"
    __table_args__ = (
        Index("ix_admin_actions_target", "target_type", "target_id"),
        Index("ix_admin_actions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # "user.create", "user.disable", ...
    target_type: Mapped[str] = mapped_column(String(40))  # "user", "department", ...
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict | None] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class UserSession(db.Model):
    """A signed-in browser, held on the server so that signing out really ends it.

    The session cookie carries only a random token; its SHA-256 is stored here. Logout
    revokes the row, a password change revokes the account's other rows, and disabling an
    account or an admin's password reset revokes them all: a copied cookie opens nothing.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id_revoked_at", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class RateLimitCounter(db.Model):
    """One fixed-window counter of the rate limiter's database storage (no Redis).

    Shared by every worker and application server that uses the same database.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds


class ChangeRecord(db.Model):
    """One row of the change feed: this entity changed in the transaction that wrote it.

    Written in the same transaction as the change (bulk UPDATEs included), so search
    indexes, reports and other readers can catch up from ``id`` onwards and miss nothing.
    """

    __tablename__ = "change_records"
    __table_args__ = (Index("ix_change_records_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))  # "case", "client", ...
    entity_id: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(20))  # "insert", "update", "delete"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
