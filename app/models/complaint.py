"""Complaints as customers submitted them, with their photos; the process instance does the rest."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime
from app.extensions import db
from app.models.order import Order

DASHBOARD_FILTERS = ("created_day", "case_category", "handling_group", "channel")
DASHBOARD_ORDERS = {"response": "response_seconds", "resolution": "resolution_seconds", "product": "product",
                    "region": "region"}


class Complaint(db.Model):
    """One complaint about one order; ``instance_id`` is its complaint_handling instance."""

    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_complaint_customer_key"),
        Index("ix_complaint_customer", "customer_id", "created_at"),
        Index("ix_complaint_order_category", "order_id", "category"),
        # the dashboard (app/services/dashboard.py): covering indexes, so that its percentiles, top lists
        # and open SLA misses never read the table: by day for short ranges, in value order for long ones
        Index("ix_complaint_dashboard", "created_day", "case_category", "handling_group", "channel",
              "response_seconds", "resolution_seconds", "product", "region"),
        *[Index(f"ix_complaint_by_{name}", column, *DASHBOARD_FILTERS) for name, column in DASHBOARD_ORDERS.items()],
        Index("ix_complaint_unanswered", "first_response_at", "response_due_at", *DASHBOARD_FILTERS),
        Index("ix_complaint_unresolved", "resolved_at", "resolution_due_at", *DASHBOARD_FILTERS),
        Index("ix_complaint_dimensions", "id", *DASHBOARD_FILTERS[1:]),  # the refund panel's filtered join
        CheckConstraint("csat IS NULL OR csat BETWEEN 1 AND 5", name="csat_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id"))
    category: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))            # web | app
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    request_sha256: Mapped[str | None] = mapped_column(String(64))   # what an app sent with that key
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Facts the dashboard reads, kept by app/services/complaint_facts.py as the case moves on.
    created_day: Mapped[date | None] = mapped_column(Date)        # created_at's day in the shop's time zone
    case_category: Mapped[str | None] = mapped_column(String(80))  # the category after classification/triage
    handling_group: Mapped[str | None] = mapped_column(String(80))
    product: Mapped[str | None] = mapped_column(String(120))       # the order's first item
    region: Mapped[str | None] = mapped_column(String(40))         # the order's delivery region
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_seconds: Mapped[int | None] = mapped_column()
    resolution_seconds: Mapped[int | None] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfied: Mapped[bool | None] = mapped_column()
    csat: Mapped[int | None] = mapped_column()

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
