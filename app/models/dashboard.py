"""The dashboard's daily rollup: complaint figures per shop day, category, group and channel.

Each complaint contributes to exactly one row (its created day and current dimensions);
app/services/complaint_facts.py moves that contribution in the same transaction as any
change to the complaint, so the rollup is always exact.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# the additive measures of one complaint (see complaint_facts.contribution)
ROLLUP_MEASURES = (
    "complaints", "responded", "response_seconds_sum", "resolved", "resolution_seconds_sum",
    "response_met", "response_late", "resolution_met", "resolution_late", "rated", "csat_sum",
    "satisfied_72h",
)


class ComplaintDaily(db.Model):
    """Sums over the complaints created on one shop day with one (category, group, channel)."""

    __tablename__ = "complaint_daily"
    __table_args__ = (
        UniqueConstraint("day", "category", "handling_group", "channel", name="uq_complaint_daily_key"),
        CheckConstraint("complaints >= 0", name="complaints_non_negative"),
        Index("ix_complaint_daily_category", "category", "day"),
        Index("ix_complaint_daily_group", "handling_group", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(80))
    handling_group: Mapped[str] = mapped_column(String(80))  # "" until the complaint is routed
    channel: Mapped[str] = mapped_column(String(20))
    complaints: Mapped[int] = mapped_column(default=0)
    responded: Mapped[int] = mapped_column(default=0)
    response_seconds_sum: Mapped[int] = mapped_column(db.BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    resolution_seconds_sum: Mapped[int] = mapped_column(db.BigInteger, default=0)
    response_met: Mapped[int] = mapped_column(default=0)
    response_late: Mapped[int] = mapped_column(default=0)
    resolution_met: Mapped[int] = mapped_column(default=0)
    resolution_late: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    csat_sum: Mapped[int] = mapped_column(default=0)
    satisfied_72h: Mapped[int] = mapped_column(default=0)


class RefundDaily(db.Model):
    """Refunds asked for on one shop day, per their complaint's (category, group, channel), path and state.

    A refund without a complaint has "" for category, group and channel. app/services/refunds.py moves a
    refund's count and amount here at every state change, in the same transaction.
    """

    __tablename__ = "refund_daily"
    __table_args__ = (
        UniqueConstraint("day", "category", "handling_group", "channel", "automatic", "state",
                         name="uq_refund_daily_key"),
        CheckConstraint("refunds >= 0", name="refunds_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(80))
    handling_group: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    automatic: Mapped[bool] = mapped_column()
    state: Mapped[str] = mapped_column(String(20))
    refunds: Mapped[int] = mapped_column(default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))


class ComplaintTopDaily(db.Model):
    """Complaints per period, category, group, channel and product (``kind`` "product") or region ("region").

    Each complaint counts twice per kind: in its shop day's row (``period`` "day", ``day`` the day) and in
    its month's (``period`` "month", ``day`` the 1st). app/services/complaint_facts.py adds it at intake and
    moves it with its category / group, in the same transaction; a top list reads the months a range
    covers whole and the days at its ends.
    """

    __tablename__ = "complaint_top_daily"
    __table_args__ = (
        UniqueConstraint("kind", "period", "day", "category", "handling_group", "channel", "name",
                         name="uq_complaint_top_daily_key"),
        CheckConstraint("kind IN ('product', 'region')", name="kind_known"),
        CheckConstraint("period IN ('day', 'month')", name="period_known"),
        CheckConstraint("complaints >= 0", name="complaints_non_negative"),
        Index("ix_complaint_top_daily_category", "kind", "period", "category", "day", "handling_group", "channel",
              "name", "complaints"),
        Index("ix_complaint_top_daily_day", "kind", "period", "day", "category", "handling_group", "channel",
              "name", "complaints"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(5))
    day: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(80))
    handling_group: Mapped[str] = mapped_column(String(80))  # "" until the complaint is routed
    channel: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    complaints: Mapped[int] = mapped_column(default=0)
