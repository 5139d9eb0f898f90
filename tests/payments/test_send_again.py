"""Sending a refund again after the gateway definitely refused it: a new refund with a new key
(derived from the refused refund's key and the attempt number), paid at most once; never the
refused key again, never a second key while the first attempt may still be paid."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, Refund, RefundEvent
from app.payments.errors import DoubleRefund, RefundInvalid
from app.services import refunds
from app.services.refund_payouts import pay_refund
from app.services.uow import run_command
from tests.payments.conftest import paid, sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.complaints import ProcessDriver
from workflows.services import ServiceCall, ServiceError

_trades = iter(range(1, 10**9))


def _call(clock, payment_id: int, key: str, **params: Any) -> ServiceCall:  # type: ignore[no-untyped-def]
    return ServiceCall("pay_refund", {"payment_id": payment_id, "amount": "30.00", "currency": "CNY", "reason": "坏了",
                                      "requested_by": "xiaowang", "approved_by": "zhuguan", "complaint_id": "C-9",
                                      **params}, None, "t1", key, clock.now())


def _failed(paid, clock) -> Refund:  # type: ignore[no-untyped-def]  # noqa: F811
    payment = paid("alipay", amount="50.00")
    refund = refunds.create_refund(payment.id, "30.00", "CNY", reason="坏了", requested_by="xiaowang",
                                   approved_by="zhuguan", source_key=f"{payment.provider_payment_id}:first",
                                   now=clock.now())
    refunds.move(refund, refunds.S.FAILED, actor="gateway", now=clock.now(), code="ACQ.TRADE_NOT_EXIST")
    db.session.commit()
    return refund


def test_a_second_attempt_has_its_own_key_and_is_paid_once(paid, clock, sandbox) -> None:  # noqa: F811
    failed = _failed(paid, clock)
    call = _call(clock, failed.payment_id, "svc:retry", retry_of=failed.id, attempt=2)
    result = pay_refund(call)
    second = db.session.get(Refund, result["refund_id"])
    assert result["state"] == "succeeded" and second.id != failed.id
    assert second.source_key == f"{failed.idempotency_key}:attempt:2"
    assert second.idempotency_key == refunds.refund_key(second.source_key) != failed.idempotency_key
    assert sandbox.app.ledger.get("alipay", second.idempotency_key).requests == 1
    assert sandbox.app.ledger.get("alipay", failed.idempotency_key) is None, "the refused key is never sent again"
    # the job running the same call again finds the same refund and sends nothing
    assert pay_refund(call) == {"refund_id": second.id, "state": "succeeded"}
    assert sandbox.app.ledger.get("alipay", second.idempotency_key).requests == 1
    payment = db.session.get(type(second.payment), second.payment_id)
    db.session.refresh(payment)
    assert (payment.amount_reserved, payment.amount_refunded) == (Decimal("30.00"), Decimal("30.00"))
    [sent_again] = db.session.execute(select(RefundEvent).where(
        RefundEvent.refund_id == failed.id, RefundEvent.event_type == "refund.sent_again")).scalars()
    assert sent_again.detail["refund_id"] == second.id and sent_again.detail["attempt"] == 2


def test_only_a_failed_refund_is_sent_again(paid, clock) -> None:  # noqa: F811
    payment = paid("alipay", amount="50.00")
    unclear = refunds.create_refund(payment.id, "30.00", "CNY", reason="坏了", requested_by="xiaowang",
                                    approved_by="zhuguan", source_key=f"{payment.provider_payment_id}:u",
                                    now=clock.now())
    refunds.move(unclear, refunds.S.UNKNOWN, actor="gateway", now=clock.now())
    db.session.commit()
    with pytest.raises(RefundInvalid, match=f"refund {unclear.id} is unknown, not failed"):
        refunds.check_retry(unclear.id, 2, payment_id=payment.id)
    with pytest.raises(ServiceError) as caught:
        pay_refund(_call(clock, payment.id, "svc:r", retry_of=unclear.id, attempt=2))
    assert caught.value.code == "refund_rejected"
    assert db.session.execute(select(Refund).where(Refund.payment_id == payment.id)).scalars().all() == [unclear]


def test_a_failed_refund_is_sent_again_once_and_attempts_must_count_on(paid, clock) -> None:  # noqa: F811
    failed = _failed(paid, clock)
    with pytest.raises(RefundInvalid, match="attempt 2 or more"):
        refunds.check_retry(failed.id, 1, payment_id=failed.payment_id)
    with pytest.raises(RefundInvalid, match="must be numbers"):
        refunds.check_retry(failed.id, "x", payment_id=failed.payment_id)
    with pytest.raises(RefundInvalid, match=f"must pay payment {failed.payment_id}"):
        refunds.check_retry(failed.id, 2, payment_id=failed.payment_id + 1)
    _previous, key = refunds.check_retry(failed.id, 2, payment_id=failed.payment_id)
    run_command(lambda: refunds.create_refund(failed.payment_id, "30.00", "CNY", reason="", requested_by="xiaowang",
                                              approved_by="zhuguan", source_key=key, now=clock.now()))
    with pytest.raises(DoubleRefund, match=f"refund {failed.id} was already sent again"):
        refunds.check_retry(failed.id, 3, payment_id=failed.payment_id)


# ---------------------------------------------------------------- through the refund process


@pytest.fixture
def real_payments(driver: ProcessDriver, app):  # type: ignore[no-untyped-def]
    app.extensions["kesu.runtime"].operators._operators["pay_refund"] = driver._saved["pay_refund"]
    return driver


def test_finance_sends_a_refused_refund_again_and_it_is_paid_once(real_payments: ProcessDriver, sandbox,  # noqa: F811
                                                                  clock) -> None:
    driver = real_payments
    ref = f"al-not-yet-{next(_trades)}-{id(db.session)}"   # known to Kesu, not (yet) to the gateway: refused
    payment_id = refunds.record_payment(f"O-{ref}", "alipay", ref, "120.00", "CNY", now=clock.now()).id
    db.session.commit()
    instance_id = driver.start(payment_id=payment_id, complaint_id="C-3001")
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "为您退款", "refund_amount": 80.0,
                                            "refund_reason": "杯子有裂纹"}, actor="xiaowang")
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.advance(minutes=5)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["resolve_failed"]
    [first] = db.session.execute(select(Refund).where(Refund.payment_id == payment_id)).scalars()
    assert first.state == "failed" and first.last_error.startswith("ACQ.TRADE_NOT_EXIST")
    requests.post(f"{sandbox.url}/_sandbox/payments", json={"provider": "alipay", "ref": ref, "amount": "120.00",
                                                            "currency": "CNY"}, timeout=5)
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "send_again"}, actor="caiwu")
    for _ in range(3):
        driver.advance(minutes=5)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    first, second = db.session.execute(select(Refund).where(Refund.payment_id == payment_id)
                                       .order_by(Refund.id)).scalars()
    assert (first.state, second.state) == ("failed", "succeeded")
    assert second.source_key == f"{first.idempotency_key}:attempt:2"
    ledger = sandbox.app.ledger.of_trade("alipay", ref)
    assert [(r.key, r.amount, r.requests) for r in ledger] == [(second.idempotency_key, Decimal("80.00"), 1)]
    assert driver.data(instance_id)["refund_state"] == "succeeded"
    told = db.session.execute(select(Notification.template).where(Notification.instance_id == instance_id)
                              .order_by(Notification.id)).scalars().all()
    assert told == ["refund_failed", "resolution"]


def test_the_customers_refund_list_says_a_failed_refund_was_sent_again(paid, clock, sandbox) -> None:  # noqa: F811
    from app.services.complaint_timeline import _refund_list
    failed = _failed(paid, clock)
    assert [r["state_label"] for r in _refund_list([failed])] == ["failed; finance is handling it"]
    second = db.session.get(Refund, pay_refund(_call(clock, failed.payment_id, "svc:list", retry_of=failed.id,
                                                     attempt=2))["refund_id"])
    labels = [r["state_label"] for r in _refund_list([db.session.get(Refund, failed.id), second])]
    assert labels == ["did not go through; sent again as a new refund", "received"]
