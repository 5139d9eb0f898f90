"""The errors the payment layer raises, each with a message that says what to do.

    KesuError (app.errors)
    ├── Conflict
    │   ├── RefundTransitionError   a state change the transition table does not allow
    │   └── DoubleRefund            this refund (or this key) was already paid or is in flight
    ├── ValidationFailed
    │   ├── RefundExceedsPayment    the refunds of a payment would exceed what was paid
    │   └── RefundInvalid           amount, currency or approver is wrong
    └── NotificationRejected        a gateway notification is forged, stale or unreadable (400)

GatewayUnclear and GatewayRefused are not user errors: they tell the refund service how a
gateway answered (no clear answer -> query later; a definite no -> failed).
"""
from __future__ import annotations

from app.errors import Conflict, KesuError, ValidationFailed


class RefundTransitionError(Conflict):
    title = "Refund state change refused"


class DoubleRefund(Conflict):
    title = "Refund already paid"


class RefundExceedsPayment(ValidationFailed):
    title = "Refund exceeds payment"


class RefundInvalid(ValidationFailed):
    title = "Refund invalid"


class NotificationRejected(KesuError):
    status = 400
    title = "Notification rejected"


class GatewayUnclear(Exception):
    """The gateway gave no clear answer (timeout, dropped connection, 5xx/429 after retries)."""


class GatewayRefused(Exception):
    """The gateway answered that it will not pay this refund."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
