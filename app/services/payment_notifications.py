"""Gateway notifications: verified on the raw body, stale ones refused, each event id applied once."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

from sqlalchemy import select

from app.extensions import db
from app.models import GatewayNotification, Refund
from app.payments.gateway import Notice
from app.services import refunds
from app.services.payment_gateways import get_gateway
from app.services.refund_payouts import apply_gateway_state


def receive_notification(provider: str, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str:
    """Verify and apply one notification; return the outcome (``duplicate``, ``moved:succeeded``, ...).

    Raises NotificationRejected for a forged, stale or unreadable one (nothing is written).
    """
    notice = get_gateway(provider).parse_notification(headers, body, now)
    seen = db.session.execute(select(GatewayNotification.id).where(
        GatewayNotification.provider == provider, GatewayNotification.event_id == notice.event_id)).scalar()
    if seen is not None:
        return "duplicate"
    refund = _refund_for(provider, notice)
    if refund is None:
        outcome = "unknown_refund"
        refunds.raise_alert("unknown_refund", f"{provider} notified about a refund Kesu does not know "
                            f"(key {notice.key}, id {notice.provider_refund_id})", refund_id=None, now=now,
                            event_id=notice.event_id)
    else:
        refunds.note(refund, "refund.notified", actor="gateway", now=now, event_id=notice.event_id,
                     state=notice.state, detail=notice.detail)
        outcome = apply_gateway_state(refund, notice.state, provider_refund_id=notice.provider_refund_id,
                                      amount=notice.amount, source="notification", now=now)
    db.session.add(GatewayNotification(provider=provider, event_id=notice.event_id,
                                       refund_id=refund.id if refund else None, outcome=outcome, received_at=now))
    db.session.flush()
    return outcome


def _refund_for(provider: str, notice: Notice) -> Refund | None:
    query = select(Refund).where(Refund.provider == provider).with_for_update()
    if notice.key:
        found = db.session.execute(query.where(Refund.idempotency_key == notice.key)).scalar_one_or_none()
        if found is not None:
            return found
    if notice.provider_refund_id:
        return db.session.execute(query.where(Refund.provider_refund_id == notice.provider_refund_id)
                                  .limit(1)).scalar_one_or_none()
    return None
