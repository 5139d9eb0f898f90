"""Refunds in the database: create under the payment's row lock, move through the state table.

Every change is a ``refund_event`` row; admin actions also go to the system audit chain.
Services flush; the caller's unit of work commits.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from app.errors import FourEyesViolation, NotFound
from app.extensions import db
from app.models import Payment, PaymentAlert, Refund, RefundEvent
from app.payments.errors import DoubleRefund, RefundExceedsPayment, RefundInvalid
from app.payments.gateway import RefundOrder
from app.payments.states import PAID, RefundState, check_transition
from app.services import audit, complaint_facts, jobs

S = RefundState
CENT = Decimal("0.01")
RESULT_MESSAGE = "refund_result"
# Who asks for and approves a refund that a decision table grants (rules/auto_resolution.dmn,
# rules/refund_approval_level.dmn): no person, so the four-eyes rule between people does not apply.
AUTOMATIC = "system"


def refund_key(source_key: str) -> str:
    """The gateway-facing idempotency key: stable for a source key, short and plain enough for all three."""
    return "kr" + hashlib.sha256(source_key.encode()).hexdigest()[:30]


def parse_amount(value: Any) -> Decimal:
    """Read a money amount (number or decimal string) with at most two decimals."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RefundInvalid(f"amount '{value}' is not a number; give it like 12.50",
                            fields={"amount": "not a number"}) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise RefundInvalid(f"amount {value} must be greater than 0 with at most two decimals",
                            fields={"amount": "must be > 0 with at most two decimals"})
    return amount


def record_payment(order_ref: str, provider: str, provider_payment_id: str, amount: Any, currency: str, *,
                   now: datetime) -> Payment:
    """Record that an order was paid through a gateway (the portal will call this; tests and demos do)."""
    payment = Payment(order_ref=order_ref, provider=provider, provider_payment_id=provider_payment_id,
                      amount=parse_amount(amount), currency=currency.upper(), amount_reserved=Decimal("0"),
                      amount_refunded=Decimal("0"), paid_at=now)
    db.session.add(payment)
    db.session.flush()
    return payment


def lock_payment(payment_id: int) -> Payment:
    """Load a payment under a row lock (FOR UPDATE on PostgreSQL; SQLite serialises writers)."""
    payment = db.session.execute(select(Payment).where(Payment.id == payment_id).with_for_update()
                                 .execution_options(populate_existing=True)).scalar_one_or_none()
    if payment is None:
        raise NotFound(f"payment {payment_id} does not exist; check the order's payment record")
    return payment


def find_by_source(source_key: str) -> Refund | None:
    return db.session.execute(select(Refund).where(Refund.source_key == source_key)).scalar_one_or_none()


def retry_source_key(failed: Refund, attempt: int | str = "") -> str:
    """The source key of a new payment attempt at a failed refund: that refund's gateway key and the attempt
    number (without a number: the prefix every new attempt at that refund shares)."""
    return f"{failed.idempotency_key}:attempt:{attempt}"


def check_retry(failed_refund_id: Any, attempt: Any, *, payment_id: int) -> tuple[Refund, str]:
    """Return the failed refund and the source key of its new attempt; refuse unless it may be sent again.

    Only a refund the gateway definitely did not pay (``failed``) may be sent again, and only once:
    a new key for a refund still in flight or unclear could move the money twice.
    """
    try:
        previous, number = get_refund(int(failed_refund_id)), int(attempt)
    except (TypeError, ValueError):
        raise RefundInvalid(f"retry_of '{failed_refund_id}' and attempt '{attempt}' must be numbers",
                            fields={"retry_of": "a refund id", "attempt": "2 or more"}) from None
    if previous.state != S.FAILED.value:
        raise RefundInvalid(f"refund {previous.id} is {previous.state}, not failed: only a refund the gateway "
                            f"definitely did not pay can be sent again (query it instead)",
                            fields={"retry_of": f"refund {previous.id} is {previous.state}"})
    if previous.payment_id != payment_id or number < 2:
        raise RefundInvalid(f"a new attempt at refund {previous.id} must pay payment {previous.payment_id} with "
                            f"attempt 2 or more (got payment {payment_id}, attempt {number})",
                            fields={"attempt": "2 or more"})
    source_key = retry_source_key(previous, number)
    other = db.session.execute(select(Refund).where(
        Refund.source_key.startswith(retry_source_key(previous)), Refund.source_key != source_key)
    ).scalars().first()
    if other is not None:
        raise DoubleRefund(f"refund {previous.id} was already sent again as refund {other.id}; send that one "
                           f"again if it failed too")
    return previous, source_key


def get_refund(refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise NotFound(f"refund {refund_id} does not exist")
    return refund


def create_refund(payment_id: int, amount: Any, currency: str, *, reason: str, requested_by: str,
                  approved_by: str | None, source_key: str, now: datetime, complaint_id: str | None = None,
                  instance_id: int | None = None) -> Refund:
    """Create (or find, by source key) a refund; refuse it if the payment's refunds would exceed what was paid."""
    existing = find_by_source(source_key)
    if existing is not None:
        return existing
    value = parse_amount(amount)
    payment = lock_payment(payment_id)
    if currency.upper() != payment.currency:
        raise RefundInvalid(f"currency {currency} differs from the payment's {payment.currency}; refund in "
                            f"{payment.currency}", fields={"currency": f"must be {payment.currency}"})
    if approved_by and approved_by == requested_by != AUTOMATIC:
        raise FourEyesViolation(f"{requested_by} asked for this refund and cannot approve it; another person must")
    left = payment.amount - payment.amount_reserved
    if value > left:
        raise RefundExceedsPayment(f"refund {value} {payment.currency} exceeds what is left of payment {payment.id}: "
                                   f"{left} of {payment.amount} (the rest is refunded or in flight)",
                                   fields={"amount": f"at most {left}"})
    payment.amount_reserved = payment.amount_reserved + value
    refund = Refund(payment=payment, provider=payment.provider, amount=value, currency=payment.currency,
                    state=S.REQUESTED.value, idempotency_key=refund_key(source_key), source_key=source_key,
                    requested_by=requested_by, reason=reason or "", complaint_id=complaint_id or None,
                    instance_id=instance_id, attempts=0, queries=0, created_at=now, updated_at=now)
    db.session.add(refund)
    db.session.flush()
    _history(refund, "refund.requested", None, S.REQUESTED.value, requested_by, now, amount=str(value))
    complaint_facts.record_refund(refund)  # the dashboard's refund rollup, in this transaction
    if approved_by:
        refund.approved_by = approved_by
        move(refund, S.APPROVED, actor=approved_by, now=now)
    return refund


def move(refund: Refund, target: RefundState, *, actor: str | None, now: datetime, event: str = "refund.state",
         **detail: Any) -> Refund:
    """Move a refund along the table, keep the payment's totals, and queue the process message when final."""
    current = refund.state
    check_transition(current, target)
    if target in (S.FAILED, S.SUCCEEDED, S.PAID_MANUALLY):
        _book(refund, target)
    refund.state = target.value
    refund.updated_at = now
    complaint_facts.record_refund(refund, previous_state=current)
    if target in (S.SUCCEEDED, S.FAILED, S.PAID_MANUALLY):
        refund.finished_at = now
    _history(refund, event, current, target.value, actor, now, **detail)
    if target in (S.SUCCEEDED, S.FAILED):
        jobs.enqueue("payments.result", RESULT_MESSAGE, {"refund_id": refund.id}, f"refund-result:{refund.id}",
                     now=now, instance_id=refund.instance_id, max_attempts=30)
    return refund


def _book(refund: Refund, target: RefundState) -> None:
    payment = lock_payment(refund.payment_id)
    if target == S.FAILED:
        payment.amount_reserved = payment.amount_reserved - refund.amount
        return
    if target == S.PAID_MANUALLY:
        if payment.amount_reserved + refund.amount > payment.amount:
            raise RefundExceedsPayment(f"marking refund {refund.id} paid would exceed payment {payment.id}",
                                       fields={"amount": "exceeds what is left"})
        payment.amount_reserved = payment.amount_reserved + refund.amount
    payment.amount_refunded = payment.amount_refunded + refund.amount


def mark_paid_manually(refund_id: int, *, reason: str, actor: str, now: datetime) -> Refund:
    """Record that finance paid a failed refund outside the gateway (reason required, audited)."""
    if not reason.strip():
        raise RefundInvalid("say how and when the refund was paid (e.g. bank transfer reference)",
                            fields={"reason": "required"})
    refund = get_refund(refund_id)
    if refund.state in {s.value for s in PAID}:
        raise DoubleRefund(f"refund {refund.id} is already {refund.state}; it must not be paid again")
    move(refund, S.PAID_MANUALLY, actor=actor, now=now, event="refund.paid_manually", reason=reason.strip())
    audit.record_system_event("refund.paid_manually", {"refund_id": refund.id, "amount": str(refund.amount),
                                                       "currency": refund.currency, "reason": reason.strip()},
                              actor=actor, now=now)
    return refund


def note(refund: Refund, event: str, *, actor: str | None, now: datetime, **detail: Any) -> None:
    """Add a history entry that changes no state (a send, a query, a notification)."""
    _history(refund, event, refund.state, refund.state, actor, now, **detail)


def _history(refund: Refund, event: str, from_state: str | None, to_state: str | None, actor: str | None,
             now: datetime, **detail: Any) -> None:
    db.session.add(RefundEvent(refund_id=refund.id, event_type=event, from_state=from_state, to_state=to_state,
                               actor=actor, detail={k: v for k, v in detail.items() if v is not None},
                               occurred_at=now))


def raise_alert(kind: str, message: str, *, refund_id: int | None, now: datetime, **detail: Any) -> PaymentAlert:
    """Open an alert for finance unless the same one is already open."""
    existing = db.session.execute(select(PaymentAlert).where(
        PaymentAlert.kind == kind, PaymentAlert.refund_id == refund_id,
        PaymentAlert.resolved_at.is_(None))).scalar_one_or_none()
    if existing is not None:
        return existing
    alert = PaymentAlert(kind=kind, refund_id=refund_id, message=message, detail=detail, created_at=now)
    db.session.add(alert)
    db.session.flush()
    return alert


def order_of(refund: Refund) -> RefundOrder:
    """What the gateway needs to pay or look up this refund."""
    payment = refund.payment
    return RefundOrder(refund.idempotency_key, payment.provider_payment_id, refund.amount, refund.currency,
                       payment.amount, refund.reason)
