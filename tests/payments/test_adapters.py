"""Each adapter against the sandbox over real HTTP: send, dedupe by key, query, refusals, faults."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.payments.errors import GatewayRefused, GatewayUnclear
from app.payments.gateway import RefundOrder
from app.services.payment_gateways import get_gateway

PROVIDERS = ["alipay", "wechat", "stripe"]


def _order(payment, key: str, amount: str = "30.00") -> RefundOrder:  # type: ignore[no-untyped-def]
    return RefundOrder(key, payment.provider_payment_id, Decimal(amount), payment.currency, payment.amount, "坏了")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refund_is_paid_once_per_key_and_found_by_query(provider, paid, sandbox) -> None:
    payment = paid(provider)
    gateway = get_gateway(provider)
    answer = gateway.submit(_order(payment, f"k-{provider}-1"))
    assert answer.state == ("succeeded" if provider == "alipay" else "submitted")
    assert answer.amount == Decimal("30.00") and answer.provider_refund_id
    if provider == "alipay":  # fund_change=N on a repeated key: this call moved nothing, so it is unclear
        with pytest.raises(GatewayUnclear, match="fund_change=N"):
            gateway.submit(_order(payment, f"k-{provider}-1"))
    else:
        assert gateway.submit(_order(payment, f"k-{provider}-1")).provider_refund_id == answer.provider_refund_id
    sandbox.app.tick()  # settle
    assert gateway.query(_order(payment, f"k-{provider}-1")).state == "succeeded"
    assert gateway.query(_order(payment, f"k-{provider}-never")).state == "not_found"
    [entry] = [r for r in sandbox.app.ledger.snapshot() if r["key"] == f"k-{provider}-1"]
    assert (entry["amount"], entry["requests"]) == ("30.00", 2)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refund_above_what_is_left_is_refused_by_the_gateway(provider, paid) -> None:
    payment = paid(provider, amount="20.00")
    with pytest.raises(GatewayRefused, match="exceeds what is left"):
        get_gateway(provider).submit(_order(payment, f"big-{provider}", amount="25.00"))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lost_answer_after_the_money_moved_is_unclear_and_the_query_finds_it(provider, paid, sandbox) -> None:
    payment = paid(provider)
    sandbox.app.faults.configure(queue=["lost"])
    with pytest.raises(GatewayUnclear, match="no answer after sending"):
        get_gateway(provider).submit(_order(payment, f"lost-{provider}"))
    sandbox.app.tick()
    assert get_gateway(provider).query(_order(payment, f"lost-{provider}")).state == "succeeded"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_500s_are_retried_with_the_same_key_and_give_up_as_unclear(provider, paid, sandbox) -> None:
    payment = paid(provider)
    sandbox.app.faults.configure(queue=["error500"])
    assert get_gateway(provider).submit(_order(payment, f"retry-{provider}")).state in ("submitted", "succeeded")
    sandbox.app.faults.configure(queue=["error500"] * 3)
    with pytest.raises(GatewayUnclear, match="no clear answer after 3 tries"):
        get_gateway(provider).submit(_order(payment, f"retry2-{provider}"))
    assert sandbox.app.ledger.get(provider, f"retry2-{provider}") is None


def test_a_slow_answer_times_out_as_unclear_without_a_second_send(paid, sandbox) -> None:
    payment = paid("wechat")
    sandbox.app.faults.configure(queue=["slow"], slow_seconds=1.5)
    with pytest.raises(GatewayUnclear, match="no answer after sending"):
        get_gateway("wechat").submit(_order(payment, "slow-1"))
    assert sandbox.app.ledger.get("wechat", "slow-1").requests == 1


def test_a_forged_answer_is_unclear(paid, sandbox, app) -> None:
    payment = paid("wechat")
    gateway = get_gateway("wechat")
    original = gateway.platform_key
    gateway.platform_key = gateway.private_key.public_key()  # not the sandbox's key
    try:
        with pytest.raises(GatewayUnclear, match="signature does not verify"):
            gateway.submit(_order(payment, "forged-1"))
    finally:
        gateway.platform_key = original
