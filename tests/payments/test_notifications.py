"""Gateway notifications over the real endpoint: genuine, forged, stale, duplicate and out of order."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import GatewayNotification, Refund, RefundEvent
from app.services import refunds
from app.services.refund_payouts import submit_refund

PROVIDERS = ["alipay", "wechat", "stripe"]


@pytest.fixture
def sent(paid, clock, sandbox):  # type: ignore[no-untyped-def]
    """Factory: a refund sent to the sandbox (not yet settled for WeChat/Stripe) and its ledger entry."""
    def make(provider: str):  # type: ignore[no-untyped-def]
        payment = paid(provider)
        refund = refunds.create_refund(payment.id, "30.00", "CNY", reason="r", requested_by="a", approved_by="b",
                                       source_key=f"notify:{payment.provider_payment_id}", now=clock.now())
        db.session.commit()
        submit_refund(refund.id)
        return db.session.get(Refund, refund.id), sandbox.app.ledger.get(provider, refund.idempotency_key)
    return make


def _notification(sandbox, provider, entry, status="success"):  # type: ignore[no-untyped-def]
    entry.status = status if status != "processing" else entry.status
    return getattr(sandbox.app, provider).notification(entry, status)()


def _post(client, provider, body, headers):  # type: ignore[no-untyped-def]
    return client.post(f"/payments/notify/{provider}", data=body, headers=headers)


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.execute(select(func.count()).select_from(model)).scalar()


@pytest.mark.parametrize("provider", ["wechat", "stripe"])
def test_a_genuine_notification_settles_the_refund_once(provider, client, sent, sandbox) -> None:
    refund, entry = sent(provider)
    assert refund.state == "submitted"
    body, headers = _notification(sandbox, provider, entry)
    response = _post(client, provider, body, headers)
    assert response.status_code == 200
    db.session.refresh(refund)
    assert refund.state == "succeeded" and refund.provider_refund_id == entry.refund_id
    history = _count(RefundEvent)
    again = _post(client, provider, body, headers)  # the same event id again
    assert again.status_code == 200
    assert _count(RefundEvent) == history
    assert db.session.execute(select(GatewayNotification.outcome).where(
        GatewayNotification.refund_id == refund.id)).scalars().all() == ["moved:succeeded"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_stale_processing_notification_after_success_changes_nothing(provider, client, sent, sandbox) -> None:
    refund, entry = sent(provider)
    _post(client, provider, *_notification(sandbox, provider, entry, "success"))
    late = _post(client, provider, *_notification(sandbox, provider, entry, "processing"))
    assert late.status_code == 200
    db.session.refresh(refund)
    assert refund.state == "succeeded"
    outcomes = db.session.execute(select(GatewayNotification.outcome).where(
        GatewayNotification.refund_id == refund.id).order_by(GatewayNotification.id)).scalars().all()
    assert outcomes[-1] == "stale"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_notification_is_refused_and_writes_nothing(provider, client, sent, sandbox) -> None:
    refund, entry = sent(provider)
    body, headers = _notification(sandbox, provider, entry)
    forged = body.replace(b"30", b"99") if provider != "wechat" else body.replace(b'"id": "', b'"id": "x')
    before = _count(GatewayNotification)
    response = _post(client, provider, forged, headers)
    assert response.status_code == 400
    assert {"alipay": b"fail", "wechat": b"RSA2 signature does not match",
            "stripe": b"no v1 signature"}[provider] in response.data
    assert _count(GatewayNotification) == before
    db.session.refresh(refund)
    assert refund.state != "succeeded" or provider == "alipay"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_stale_notification_is_refused(provider, client, sent, sandbox, clock) -> None:
    refund, entry = sent(provider)
    body, headers = _notification(sandbox, provider, entry)
    clock.advance(seconds=301)
    response = _post(client, provider, body, headers)
    assert response.status_code == 400
    if provider != "alipay":
        assert b"notification is stale" in response.data and b"tolerance 300 s" in response.data


def test_a_notification_for_an_unknown_provider_is_404(client) -> None:
    response = client.post("/payments/notify/paypal", data=b"{}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "unknown payment provider 'paypal'" in response.get_json()["detail"]


def test_a_failure_notification_after_success_raises_an_alert(client, sent, sandbox) -> None:
    refund, entry = sent("stripe")
    _post(client, "stripe", *_notification(sandbox, "stripe", entry, "success"))
    _post(client, "stripe", *_notification(sandbox, "stripe", entry, "closed"))
    db.session.refresh(refund)
    assert refund.state == "succeeded"
    from app.models import PaymentAlert
    [alert] = db.session.execute(select(PaymentAlert).where(PaymentAlert.refund_id == refund.id)).scalars().all()
    assert alert.kind == "state_mismatch" and "gateway says refund" in alert.message
