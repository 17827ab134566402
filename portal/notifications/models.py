"""Outbox, in-app inbox and the editable message templates."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, db, utcnow
from portal.i18n import LabelledEnum, bind_labels
from portal.models import User, enum_column


class MessageChannel(LabelledEnum):
    EMAIL = "email"
    SMS = "sms"
    INBOX = "inbox"


CHANNEL_LABELS = bind_labels(
    MessageChannel,
    {
        MessageChannel.EMAIL: _l("E-mail"),
        MessageChannel.SMS: _l("SMS"),
        MessageChannel.INBOX: _l("Inbox"),
    },
)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class OutboxMessage(db.Model):
    """One message to deliver, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[MessageChannel] = mapped_column(enum_column(MessageChannel))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(254))  # e-mail address or phone number
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # A secret the message carries (a verification code): ``body`` holds it masked, this
    # column the real text encrypted with a key derived from SECRET_KEY; it is erased once
    # the message is sent or given up.
    sealed_body: Mapped[str | None] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxMessage(db.Model):
    """A notification in a user's in-app inbox."""

    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_messages_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class MessageTemplate(TimestampMixin, db.Model):
    """The editable text of one event's message, per channel and language."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("event", "channel", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[MessageChannel] = mapped_column(enum_column(MessageChannel))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
