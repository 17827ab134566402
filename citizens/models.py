"""Clients: one record per citizen or enterprise, whatever the channel."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, event, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.i18n import LabelledEnum, bind_labels, pinyin_key
from portal.models import District, User, enum_column

if TYPE_CHECKING:
    from cases.models import Case


class ClientKind(LabelledEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


CLIENT_KIND_LABELS = bind_labels(
    ClientKind, {ClientKind.CITIZEN: _l("Citizen"), ClientKind.ENTERPRISE: _l("Enterprise")}
)


class SizeTier(LabelledEnum):
    """Enterprise size (大型 / 中型 / 小型 / 微型)."""

    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"


SIZE_TIER_LABELS = bind_labels(
    SizeTier,
    {
        SizeTier.LARGE: _l("Large"),
        SizeTier.MEDIUM: _l("Medium"),
        SizeTier.SMALL: _l("Small"),
        SizeTier.MICRO: _l("Micro"),
    },
)


class VulnerableGroup(LabelledEnum):
    """Groups whose requests are handled with priority."""

    LOW_INCOME = "low_income"  # 低保 minimum-living-allowance recipients
    ELDERLY = "elderly"
    DISABLED = "disabled"
    VETERAN = "veteran"
    MINOR = "minor"


VULNERABLE_LABELS = bind_labels(
    VulnerableGroup,
    {
        VulnerableGroup.LOW_INCOME: _l("Minimum living allowance"),
        VulnerableGroup.ELDERLY: _l("Elderly"),
        VulnerableGroup.DISABLED: _l("Disabled"),
        VulnerableGroup.VETERAN: _l("Veteran"),
        VulnerableGroup.MINOR: _l("Minor"),
    },
)


class Engagement(LabelledEnum):
    """Computed from how many requests the client has made."""

    FIRST_TIME = "first_time"
    REPEAT = "repeat"
    FREQUENT = "frequent"


ENGAGEMENT_LABELS = bind_labels(
    Engagement,
    {
        Engagement.FIRST_TIME: _l("First-time"),
        Engagement.REPEAT: _l("Repeat"),
        Engagement.FREQUENT: _l("Frequent filer"),
    },
)
REPEAT_FROM = 2
FREQUENT_FROM = 5


def engagement_for(case_count: int) -> Engagement:
    if case_count >= FREQUENT_FROM:
        return Engagement.FREQUENT
    if case_count >= REPEAT_FROM:
        return Engagement.REPEAT
    return Engagement.FIRST_TIME


class ContactChannel(LabelledEnum):
    WEB = "web"
    PHONE = "phone"
    WALK_IN = "walk_in"
    LETTER = "letter"
    EMAIL = "email"
    VISIT = "visit"  # staff went to see the client


CONTACT_CHANNEL_LABELS = bind_labels(
    ContactChannel,
    {
        ContactChannel.WEB: _l("Web"),
        ContactChannel.PHONE: _l("Phone"),
        ContactChannel.WALK_IN: _l("Service window"),
        ContactChannel.LETTER: _l("Letter"),
        ContactChannel.EMAIL: _l("E-mail"),
        ContactChannel.VISIT: _l("Visit"),
    },
)


class Client(TimestampMixin, db.Model):
    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_district_id_name", "district_id", "name"),
        Index("ix_clients_sort_key", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ClientKind] = mapped_column(enum_column(ClientKind), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # pinyin of the name (``portal.i18n.pinyin_key``): the client list's name order
    sort_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    contact_person: Mapped[str | None] = mapped_column(String(100))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    # How the client wants to hear from us, and in which language.
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_by_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN", server_default="zh_CN")
    # Classification.
    size_tier: Mapped[SizeTier | None] = mapped_column(enum_column(SizeTier))
    industry: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    # Requests made, kept with each filing and merge: engagement is read from it.
    case_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Merged into another record (the survivor), or anonymised on the person's request.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    district: Mapped[District | None] = relationship()
    flags: Mapped[list[ClientFlag]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )
    tags: Mapped[list[ClientTag]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientTag.tag"
    )

    @property
    def engagement(self) -> Engagement:
        return engagement_for(self.case_count)

    @property
    def vulnerable(self) -> bool:
        return bool(self.flags)

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.kind}>"


class ClientFlag(db.Model):
    """A vulnerable-group flag; a flagged client's new cases get a higher priority."""

    __tablename__ = "client_flags"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    flag: Mapped[VulnerableGroup] = mapped_column(
        enum_column(VulnerableGroup), primary_key=True, index=True
    )

    client: Mapped[Client] = relationship(back_populates="flags")


class ClientTag(db.Model):
    """A free tag staff put on a client."""

    __tablename__ = "client_tags"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    client: Mapped[Client] = relationship(back_populates="tags")


class ContactLog(db.Model):
    """One interaction with a client, recorded by the system or by a staff member."""

    __tablename__ = "contact_logs"
    __table_args__ = (Index("ix_contact_logs_client_id_created_at", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    channel: Mapped[ContactChannel] = mapped_column(enum_column(ContactChannel))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    summary: Mapped[str] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()
    staff: Mapped[User | None] = relationship()
    case: Mapped[Case | None] = relationship("Case")


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_sort_key(_mapper, _connection, target: Client) -> None:
    target.sort_key = pinyin_key(target.name)


class RevealLog(db.Model):
    """Who saw a full ID number or phone, when and why (PIPL access record)."""

    __tablename__ = "reveal_logs"
    __table_args__ = (Index("ix_reveal_logs_client_id_created_at", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class ClientMerge(db.Model):
    """A record of two client records made one: what moved, who did it and why."""

    __tablename__ = "client_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: the merged record as it was
    moved_cases: Mapped[int] = mapped_column(Integer, default=0)
    moved_contacts: Mapped[int] = mapped_column(Integer, default=0)
    moved_accounts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class DeletionStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    REFUSED = "refused"


class DeletionRequest(db.Model):
    """A person's request to be forgotten, carried out by an admin by anonymising them."""

    __tablename__ = "deletion_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DeletionStatus] = mapped_column(
        enum_column(DeletionStatus), default=DeletionStatus.PENDING, index=True
    )
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()


class PhoneCode(db.Model):
    """A verification code sent by SMS to one number for one account.

    Only an HMAC of the code is kept, with its attempts, on the server: replaying an old
    cookie gains nothing. A code proves the number it was sent to, nothing else.
    """

    __tablename__ = "phone_codes"
    __table_args__ = (
        Index("ix_phone_codes_user_id_created_at", "user_id", "created_at"),
        Index("ix_phone_codes_phone_created_at", "phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32))
    # What the code is for: "verify" (prove a number) or "reset" (recover a password)
    purpose: Mapped[str] = mapped_column(String(20), default="verify", server_default="verify")
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
