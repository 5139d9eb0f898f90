"""What every gateway adapter offers, the values they exchange, and the registry by provider."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Mapping, Protocol

from app.payments.errors import NotificationRejected

NOTIFICATION_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class RefundOrder:
    """What a gateway needs to pay (or look up) one refund."""

    key: str                 # out_request_no / out_refund_no / Idempotency-Key
    payment_ref: str         # the gateway's trade number / transaction id / payment intent
    amount: Decimal
    currency: str
    paid_amount: Decimal
    reason: str = ""


@dataclass(frozen=True)
class GatewayAnswer:
    """A gateway's clear answer: ``submitted``, ``succeeded``, ``failed`` or (queries) ``not_found``."""

    state: str
    provider_refund_id: str | None = None
    amount: Decimal | None = None
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A verified notification about one refund."""

    event_id: str
    state: str
    key: str | None
    provider_refund_id: str | None
    amount: Decimal | None
    sent_at: datetime
    detail: str = ""


@dataclass(frozen=True)
class Acknowledgement:
    """What to answer the gateway after a notification was committed (or refused)."""

    status: int
    body: str
    content_type: str = "text/plain"


class Gateway(Protocol):
    provider: str

    def submit(self, order: RefundOrder) -> GatewayAnswer: ...

    def query(self, order: RefundOrder) -> GatewayAnswer: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice: ...

    def acknowledge(self, accepted: bool, message: str = "") -> Acknowledgement: ...


def check_fresh(sent_at: datetime, now: datetime, tolerance: int = NOTIFICATION_TOLERANCE_SECONDS) -> None:
    """Refuse a notification whose timestamp is more than ``tolerance`` seconds from ``now``."""
    skew = abs((now - sent_at).total_seconds())
    if skew > tolerance:
        raise NotificationRejected(f"notification is stale: sent {sent_at.isoformat()}, {int(skew)} s from now "
                                   f"(tolerance {tolerance} s); the gateway will resend a fresh one")


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def cents(amount: Decimal) -> int:
    """Minor units of a two-decimal currency."""
    return int((amount * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


GatewayFactory = Callable[[Mapping[str, Any]], Gateway]
FACTORIES: dict[str, GatewayFactory] = {}


def register(provider: str) -> Callable[[GatewayFactory], GatewayFactory]:
    """Add a gateway factory to the registry under its provider name."""
    def decorator(factory: GatewayFactory) -> GatewayFactory:
        FACTORIES[provider] = factory
        return factory
    return decorator


def build_gateway(provider: str, options: Mapping[str, Any]) -> Gateway:
    """Build one provider's adapter (with its own session)."""
    from app.payments import alipay, stripe, wechat  # noqa: F401  (they register themselves)
    return FACTORIES[provider](options)
