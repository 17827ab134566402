"""Clients: one record per citizen or enterprise, whatever the channel."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, db
from portal.models import District, enum_column


class ClientKind(enum.StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return str(CLIENT_KIND_LABELS[self])


CLIENT_KIND_LABELS = {ClientKind.CITIZEN: _l("Citizen"), ClientKind.ENTERPRISE: _l("Enterprise")}


class Client(TimestampMixin, db.Model):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ClientKind] = mapped_column(enum_column(ClientKind), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
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

    district: Mapped[District | None] = relationship()

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.kind}>"
