"""Payments and their refunds: money paid for an order, money handed back, and the gateway's word on it."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime
from app.extensions import db

PROVIDERS = ("alipay", "wechat", "stripe")
Money = Numeric(12, 2)


class Payment(db.Model):
    """One paid order; ``amount_reserved`` counts every refund not failed, so the sum stays <= paid."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id", name="uq_payment_provider_payment"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_reserved >= 0 AND amount_reserved <= amount", name="reserved_within_paid"),
        CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount_reserved",
                        name="refunded_within_reserved"),
        CheckConstraint("provider IN ('alipay', 'wechat', 'stripe')", name="provider_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(80), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_payment_id: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    amount_reserved: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount_refunded: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Refund(db.Model):
    """Money to hand back for one payment; written (with its key) before any gateway hears of it."""

    __tablename__ = "refund"
    __table_args__ = (
        UniqueConstraint("provider", "idempotency_key", name="uq_refund_provider_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_refund_state_updated", "state", "updated_at"),
        Index("ix_refund_provider_state", "provider", "state"),
        Index("ix_refund_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(64))   # out_request_no / out_refund_no / Idempotency-Key
    source_key: Mapped[str] = mapped_column(String(200), unique=True)  # the service call's key, or the console's
    provider_refund_id: Mapped[str | None] = mapped_column(String(80), index=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    complaint_id: Mapped[str | None] = mapped_column(String(80), index=True)
    instance_id: Mapped[int | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)   # sends to the gateway (same key each time)
    queries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the complaint (category, group, channel) this refund is counted under in refund_daily (None: not yet)
    counted_category: Mapped[str | None] = mapped_column(String(80))
    counted_group: Mapped[str | None] = mapped_column(String(80))
    counted_channel: Mapped[str | None] = mapped_column(String(80))

    payment: Mapped[Payment] = relationship()
    history: Mapped[list[RefundEvent]] = relationship(order_by="RefundEvent.id", back_populates="refund")


class RefundEvent(db.Model):
    """One entry of a refund's history: a state change, a send, a query, a notification."""

    __tablename__ = "refund_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)

    refund: Mapped[Refund] = relationship(back_populates="history")


class GatewayNotification(db.Model):
    """A gateway notification already processed; its event id is never processed twice."""

    __tablename__ = "gateway_notification"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_gateway_notification_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(120))
    refund_id: Mapped[int | None] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentAlert(db.Model):
    """Something finance must look at: Kesu's ledger and the gateway's disagree."""

    __tablename__ = "payment_alert"
    __table_args__ = (Index("ix_payment_alert_open", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    refund_id: Mapped[int | None] = mapped_column(index=True)
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
