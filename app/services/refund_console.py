"""What the refunds console reads and does (finance only; the view checks the role)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import PaymentAlert, Refund
from app.models.payment import PROVIDERS
from app.payments.states import RefundState
from app.services import refunds
from app.services.refund_payouts import schedule_query

PAGE_SIZE = 200


@dataclass(frozen=True)
class RefundFilter:
    state: str = ""
    provider: str = ""
    older_than_hours: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RefundFilter:
        """Read filters from query arguments, refusing values that mean nothing."""
        state, provider, age = args.get("state", ""), args.get("provider", ""), args.get("older_than_hours", "")
        if state and state not in {s.value for s in RefundState}:
            raise ValidationFailed(f"unknown state '{state}'", fields={"state": "pick a state from the list"})
        if provider and provider not in PROVIDERS:
            raise ValidationFailed(f"unknown provider '{provider}'", fields={"provider": "alipay, wechat or stripe"})
        if age and not age.isdigit():
            raise ValidationFailed("age must be a whole number of hours", fields={"older_than_hours": "e.g. 24"})
        return cls(state, provider, int(age) if age else None)


def list_refunds(filters: RefundFilter, *, now: datetime) -> list[Refund]:
    """Refunds matching the filters, newest first."""
    query = select(Refund).order_by(Refund.created_at.desc(), Refund.id.desc()).limit(PAGE_SIZE)
    if filters.state:
        query = query.where(Refund.state == filters.state)
    if filters.provider:
        query = query.where(Refund.provider == filters.provider)
    if filters.older_than_hours is not None:
        query = query.where(Refund.created_at <= now - timedelta(hours=filters.older_than_hours))
    return list(db.session.execute(query).scalars())


def open_alerts() -> list[PaymentAlert]:
    return list(db.session.execute(select(PaymentAlert).where(PaymentAlert.resolved_at.is_(None))
                                   .order_by(PaymentAlert.created_at.desc()).limit(50)).scalars())


def refund_details(refund_id: int) -> dict[str, Any]:
    """A refund, its payment, its history and its alerts."""
    refund = refunds.get_refund(refund_id)
    alerts = db.session.execute(select(PaymentAlert).where(PaymentAlert.refund_id == refund_id)
                                .order_by(PaymentAlert.created_at)).scalars().all()
    return {"refund": refund, "payment": refund.payment, "history": refund.history, "alerts": alerts,
            "can_mark_paid": refund.state == RefundState.FAILED.value}


def query_again(refund_id: int, *, actor: str, now: datetime) -> None:
    """Queue a query now and note who asked."""
    refund = refunds.get_refund(refund_id)
    refunds.note(refund, "refund.query_requested", actor=actor, now=now)
    schedule_query(refund, now=now, delay=0)


def mark_paid(refund_id: int, *, reason: str, actor: str, now: datetime) -> None:
    refunds.mark_paid_manually(refund_id, reason=reason, actor=actor, now=now)
