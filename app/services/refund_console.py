"""What the refunds console reads and does (finance only; the view checks the role)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import literal, select, tuple_

from app.errors import ValidationFailed
from app.extensions import db
from app.models import PaymentAlert, Refund
from app.models.payment import PROVIDERS
from app.payments.states import RefundState
from app.services import refunds
from app.services.refund_payouts import schedule_query

PAGE_SIZE = 50


@dataclass(frozen=True)
class RefundFilter:
    """What the console asked for: filters and, past the first page, the cursor to continue after."""

    state: str = ""
    provider: str = ""
    older_than_hours: int | None = None
    after: tuple[datetime, int] | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RefundFilter:
        """Read filters from query arguments, refusing values that mean nothing."""
        state, provider, age = args.get("state", ""), args.get("provider", ""), args.get("older_than_hours", "")
        after = _decode(args.get("after", ""))
        if state and state not in {s.value for s in RefundState}:
            raise ValidationFailed(f"unknown state '{state}'", fields={"state": "pick a state from the list"})
        if provider and provider not in PROVIDERS:
            raise ValidationFailed(f"unknown provider '{provider}'", fields={"provider": "alipay, wechat or stripe"})
        if age and not age.isdigit():
            raise ValidationFailed("age must be a whole number of hours", fields={"older_than_hours": "e.g. 24"})
        return cls(state, provider, int(age) if age else None, after)

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for the next page's link; the cursor is added there)."""
        values = {"state": self.state, "provider": self.provider,
                  "older_than_hours": "" if self.older_than_hours is None else str(self.older_than_hours)}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class RefundPage:
    """One page of refunds, newest first; ``next_cursor`` continues after its last row (None: the end)."""

    rows: list[Refund]
    next_cursor: str | None


def list_refunds(filters: RefundFilter, *, now: datetime, limit: int = PAGE_SIZE) -> RefundPage:
    """One page of refunds matching the filters, newest first, after the filter's cursor (keyset, no OFFSET)."""
    query = select(Refund).order_by(Refund.created_at.desc(), Refund.id.desc()).limit(limit + 1)
    if filters.after is not None:
        created, last_id = filters.after
        query = query.where(tuple_(Refund.created_at, Refund.id)
                            < tuple_(literal(created, Refund.created_at.type), literal(last_id)))
    if filters.state:
        query = query.where(Refund.state == filters.state)
    if filters.provider:
        query = query.where(Refund.provider == filters.provider)
    if filters.older_than_hours is not None:
        query = query.where(Refund.created_at <= now - timedelta(hours=filters.older_than_hours))
    rows = list(db.session.execute(query).scalars())
    last = rows[limit - 1] if len(rows) > limit else None
    return RefundPage(rows[:limit], f"{last.created_at.isoformat()}~{last.id}" if last else None)


def _decode(cursor: str) -> tuple[datetime, int] | None:
    """Read a page cursor ("<created_at ISO>~<id>"); a damaged one says to start from the first page."""
    if not cursor:
        return None
    created, _, last_id = cursor.partition("~")
    try:
        return datetime.fromisoformat(created), int(last_id)
    except ValueError:
        raise ValidationFailed("the page cursor is not valid",
                               fields={"after": "start again from the first page"}) from None


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
