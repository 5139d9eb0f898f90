"""Orders from the shop: what a customer bought and paid; complaints are about one of them."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime
from app.extensions import db
from app.models.customer import Customer

PAYMENT_METHODS = ("alipay", "wechat", "stripe")


class Order(db.Model):
    """One paid order; its payment row (payments' ``Payment``) shares the ``order_ref``."""

    __tablename__ = "shop_order"
    __table_args__ = (
        CheckConstraint("amount_paid > 0", name="amount_positive"),
        CheckConstraint("payment_method IN ('alipay', 'wechat', 'stripe')", name="method_known"),
        Index("ix_shop_order_customer", "customer_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(80), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    items: Mapped[list[dict[str, Any]]] = mapped_column(db.JSON, default=list)
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_method: Mapped[str] = mapped_column(String(20))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    region: Mapped[str | None] = mapped_column(String(40))  # delivery province/region, for the dashboard

    customer: Mapped[Customer] = relationship()
