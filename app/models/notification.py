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
    QUEUED = "queued"    # written by a process; no channel sender has taken it yet (or it waits to retry)
    SENDING = "sending"  # claimed by one outbox worker until ``lease_until``
    SENT = "sent"
    FAILED = "failed"    # gave up after the last attempt; ``last_error`` says why


class Notification(db.Model):
    """One message to a customer or a staff group, written once per idempotency key."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_customer", "customer_id", "created_at"),
        Index("ix_notification_outbox", "status", "created_at"),
        Index("ix_notification_due", "status", "next_attempt_at", "id"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
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
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: due at once
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)      # while ``sending``
    last_error: Mapped[str | None] = mapped_column(db.Text)
    rendered: Mapped[str | None] = mapped_column(db.Text)                  # the text as sent
    sent_by: Mapped[str | None] = mapped_column(String(40))                # the sender that delivered it
