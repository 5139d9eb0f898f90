"""Search by outcome: refunded amount (Refund rows or the recorded data), SLA breached, reopened."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Refund
from app.services import audit_outcomes
from tests.audit.test_console import _sign_in, _user
from tests.support.complaints import ProcessDriver
from tests.support.language import EN

REPLY = {"outcome": "reply", "reply": "您好"}


@pytest.fixture
def outcomes(driver: ProcessDriver, clock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    plain = driver.start(complaint_id="C-1")
    driver.complete(plain, "handle", REPLY, actor="xiaowang")
    refunded = driver.start(complaint_id="C-2")
    driver.complete(refunded, "handle", {"outcome": "refund", "refund_amount": 80.0, "reply": "退款"},
                    actor="xiaowang")
    driver.complete(refunded, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.confirm_refund(501)
    late = driver.start(complaint_id="C-3", text="气死了！！", customer_tier="vip")
    driver.advance(minutes=31)
    reopened = driver.start(complaint_id="C-4")
    driver.complete(reopened, "handle", REPLY, actor="xiaowang")
    driver.complete(reopened, "confirm_resolution", {"satisfied": False, "customer_comment": "没解决"},
                    actor="cust-1")
    _user(clock, "shenji", ["auditor"])
    return {"plain": plain, "refunded": refunded, "late": late, "reopened": reopened}


def _found(client, query: str) -> set[int]:  # type: ignore[no-untyped-def]
    import re
    page = client.get(f"/audit?{query}").get_data(as_text=True)
    return {int(i) for i in re.findall(r'/audit/instances/(\d+)"', page)}


def test_refunded_amount_comes_from_the_recorded_data_or_refund_rows(outcomes: dict[str, int], clock) -> None:
    assert audit_outcomes.refunded_amounts() == {outcomes["refunded"]: Decimal("80.0")}
    db.session.add(Refund(payment_id=_payment(clock), provider="alipay", amount=Decimal("12.50"), currency="CNY",
                          state="succeeded", idempotency_key="k-1", source_key="console:1", requested_by="finance",
                          instance_id=outcomes["plain"], created_at=clock.now(), updated_at=clock.now()))
    db.session.flush()
    assert audit_outcomes.refunded_amounts()[outcomes["plain"]] == Decimal("12.50")


def _payment(clock) -> int:  # type: ignore[no-untyped-def]
    from app.models import Payment
    payment = Payment(order_ref="O-1", provider="alipay", provider_payment_id="P-1", amount=Decimal("120"),
                      currency="CNY", paid_at=clock.now())
    db.session.add(payment)
    db.session.flush()
    return payment.id


def test_search_by_refunded_sla_breached_and_reopened(client, outcomes: dict[str, int]) -> None:
    _sign_in(client, "shenji")
    everyone = set(outcomes.values())
    assert _found(client, "refunded_min=50") == {outcomes["refunded"]}
    assert _found(client, "refunded_min=0&refunded_max=79.99") == set()
    assert _found(client, "refunded_max=80") == {outcomes["refunded"]}
    assert _found(client, "sla_breached=yes") == {outcomes["late"]}
    assert _found(client, "sla_breached=no") == everyone - {outcomes["late"]}
    assert _found(client, "reopened=yes") == {outcomes["reopened"]}
    assert _found(client, "reopened=no&sla_breached=no") == {outcomes["plain"], outcomes["refunded"]}


@pytest.mark.parametrize(("query", "message"), [
    ("refunded_min=abc", "&#39;abc&#39; is not an amount"), ("refunded_max=-5", "&#39;-5&#39; is not an amount"),
    ("sla_breached=maybe", "&#39;maybe&#39; is not yes or no"), ("reopened=1", "&#39;1&#39; is not yes or no")])
def test_outcome_filters_refuse_meaningless_values(client, outcomes: dict[str, int], query: str,
                                                   message: str) -> None:
    _sign_in(client, "shenji")
    response = client.get(f"/audit?{query}", headers=EN)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
