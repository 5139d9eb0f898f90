"""Smart alerts: a condition the minute chore found (a product's complaint burst, a late task ...)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class AlertKind(str, enum.Enum):
    PRODUCT_BURST = "product_burst"            # one product, >= 5 complaints in 24 h
    REGION_DELIVERY_SPIKE = "region_delivery"  # a region's delivery complaints > 3x its 14-day daily average
    SLA_DUE_SOON = "sla_due_soon"              # an open task 15 minutes before its SLA
    SLA_BREACHED = "sla_breached"              # an open task past its SLA
    REFUND_UNKNOWN = "refund_unknown"          # a refund stuck in `unknown` longer than the threshold


class Alert(db.Model):
    """One firing of a condition; ``open_key`` holds the condition key until the alert is resolved.

    The unique ``open_key`` is what makes an alert fire once: while it is open, the same
    condition cannot open a second one; once resolved (the condition cleared) ``open_key`` is
    NULL and the condition may fire again when it recurs.
    """

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint("(open_key IS NULL) = (resolved_at IS NOT NULL)", name="open_until_resolved"),
        CheckConstraint("(acknowledged_by IS NULL) = (acknowledged_at IS NULL)", name="ack_who_when"),
        Index("ix_alert_list", "resolved_at", "fired_at"),
        Index("ix_alert_condition", "condition_key", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    condition_key: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
