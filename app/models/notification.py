"""The customer and staff notification outbox: one row per event, sent later by a channel sender."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class NotificationStatus(str, enum.Enum):
    QUEUED = "queued"   # written by a process; no channel sender has taken it yet
    SENT = "sent"
    FAILED = "failed"


class Notification(db.Model):
    """One message to a customer or a staff group, written once per idempotency key."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_customer", "customer_id", "created_at"),
        Index("ix_notification_outbox", "status", "created_at"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))        # portal | sms | email | staff
    recipient: Mapped[str] = mapped_column(String(120))     # customer id or staff group
    customer_id: Mapped[str | None] = mapped_column(String(80))
    complaint_id: Mapped[str | None] = mapped_column(String(80), index=True)
    instance_id: Mapped[int | None] = mapped_column()
    template: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=NotificationStatus.QUEUED.value)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
