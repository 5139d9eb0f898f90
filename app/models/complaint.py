"""Complaints as customers submitted them, with their photos; the process instance does the rest."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime
from app.extensions import db
from app.models.order import Order


class Complaint(db.Model):
    """One complaint about one order; ``instance_id`` is its complaint_handling instance."""

    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_complaint_customer_key"),
        Index("ix_complaint_customer", "customer_id", "created_at"),
        Index("ix_complaint_order_category", "order_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id"))
    category: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))            # web | app
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    attachments: Mapped[list[ComplaintAttachment]] = relationship(order_by="ComplaintAttachment.id")

    @property
    def reference(self) -> str:
        """Return the id processes and the outbox use (``complaint_id``)."""
        return f"C-{self.id}"


class ComplaintAttachment(db.Model):
    """One re-encoded photo, stored under a random name outside the static folder."""

    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
