"""Refunds in the database: limits under the payment lock, keys, sending once, unclear answers, manual marks."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.commands.payments import kesu_payments
from app.errors import FourEyesViolation
from app.extensions import db
from app.models import Job, ProcessEvent, Refund
from app.payments.errors import DoubleRefund, RefundExceedsPayment, RefundInvalid
from app.payments.sandbox import start_sandbox
from app.services import refunds
from app.services.refund_payouts import query_refund, submit_refund
from app.services.uow import run_command
from tests.payments.conftest import point_app_at


def _create(payment, clock, amount="40.00", key=None, **kw):  # type: ignore[no-untyped-def]
    key = f"{payment.provider_payment_id}:{key or 'k1'}"  # the sandbox outlives tests: keys must not repeat
    refund = refunds.create_refund(payment.id, amount, kw.pop("currency", payment.currency), reason="坏了",
                                   requested_by=kw.pop("requested_by", "xiaowang"),
                                   approved_by=kw.pop("approved_by", "zhuguan"), source_key=key, now=clock.now(), **kw)
    db.session.commit()
    return refund


def test_refunds_may_not_exceed_the_payment(paid, clock) -> None:
    payment = paid("alipay", amount="100.00")
    _create(payment, clock, "60.00", "a")
    with pytest.raises(RefundExceedsPayment, match=r"refund 50.00 CNY exceeds what is left of payment \d+: 40.00 "
                                                   r"of 100.00") as caught:
        _create(payment, clock, "50.00", "b")
    assert caught.value.fields == {"amount": "at most 40.00"}
    db.session.rollback()
    assert _create(payment, clock, "40.00", "c").state == "approved"
    db.session.refresh(payment)
    assert payment.amount_reserved == Decimal("100.00")


def test_the_same_source_key_finds_the_same_refund(paid, clock) -> None:
    payment = paid("alipay")
    first = _create(payment, clock, key="same")
    assert _create(payment, clock, key="same").id == first.id
    assert first.idempotency_key == refunds.refund_key(first.source_key) and len(first.idempotency_key) == 32


@pytest.mark.parametrize(("amount", "message"), [("0", "must be greater than 0"), ("-5", "must be greater than 0"),
                                                 ("1.234", "at most two decimals"), ("abc", "is not a number")])
def test_bad_amounts_are_refused(paid, clock, amount, message) -> None:
    with pytest.raises(RefundInvalid, match=message):
        _create(paid("alipay"), clock, amount)


def test_wrong_currency_and_self_approval_are_refused(paid, clock) -> None:
    payment = paid("alipay")
    with pytest.raises(RefundInvalid, match="currency USD differs from the payment's CNY; refund in CNY"):
        _create(payment, clock, currency="USD")
    with pytest.raises(FourEyesViolation, match="xiaowang asked for this refund and cannot approve it"):
        _create(payment, clock, approved_by="xiaowang")


def test_the_database_refuses_a_non_positive_amount(paid, clock) -> None:
    payment = paid("alipay")
    db.session.add(Refund(payment_id=payment.id, provider="alipay", amount=Decimal("0"), currency="CNY",
                          state="requested", idempotency_key="x", source_key="x", requested_by="a", reason="",
                          attempts=0, queries=0, created_at=clock.now(), updated_at=clock.now()))
    with pytest.raises(Exception, match="(?i)check"):
        db.session.flush()
    db.session.rollback()


def test_submit_sends_once_and_a_second_run_does_not_send_again(paid, clock, sandbox) -> None:
    payment = paid("alipay")
    refund = _create(payment, clock)
    assert submit_refund(refund.id) == "succeeded"
    assert submit_refund(refund.id) == "succeeded"
    assert sandbox.app.ledger.get("alipay", refund.idempotency_key).requests == 1
    db.session.refresh(payment)
    assert payment.amount_refunded == Decimal("40.00")
    assert db.session.execute(select(Job.idempotency_key)).scalars().all() == [f"refund-result:{refund.id}"]


def test_a_run_that_finds_an_earlier_attempt_queries_instead_of_sending(paid, clock, sandbox) -> None:
    refund = _create(paid("wechat"), clock)
    refund.attempts = 1  # a worker died after committing the attempt
    db.session.commit()
    assert submit_refund(refund.id) == "unknown"
    assert sandbox.app.ledger.get("wechat", refund.idempotency_key) is None
    assert query_refund(refund.id) == "submitted"  # no record at the gateway: the same key is sent again
    assert sandbox.app.ledger.get("wechat", refund.idempotency_key).requests == 1
    events = [e.event_type for e in db.session.get(Refund, refund.id).history]
    assert events[-3:] == ["refund.queried", "refund.resent", "refund.state"]


def test_a_lost_answer_moves_to_unknown_and_the_query_settles_it(paid, clock, sandbox) -> None:
    refund = _create(paid("stripe"), clock)
    sandbox.app.faults.configure(queue=["lost"])
    assert submit_refund(refund.id) == "unknown"
    [job] = db.session.execute(select(Job).where(Job.kind == "payments.query")).scalars().all()
    assert job.run_at > clock.now()
    sandbox.app.tick()
    assert query_refund(refund.id) == "succeeded"
    assert sandbox.app.ledger.get("stripe", refund.idempotency_key).requests == 1


def test_a_refusal_fails_the_refund_and_frees_the_amount(paid, clock) -> None:
    payment = paid("stripe", amount="50.00")
    refund = _create(payment, clock, "40.00")
    payment_row = db.session.get(type(payment), payment.id)
    payment_row.provider_payment_id = "pi_does_not_exist"
    db.session.commit()
    assert submit_refund(refund.id) == "failed"
    db.session.refresh(refund)
    assert refund.last_error.startswith("resource_missing: trade pi_does_not_exist does not exist")
    db.session.refresh(payment_row)
    assert payment_row.amount_reserved == Decimal("0.00")


def test_finance_marks_a_failed_refund_paid_once_with_a_reason(paid, clock) -> None:
    refund = _create(paid("alipay"), clock)
    refunds.move(refund, refunds.S.FAILED, actor="gateway", now=clock.now())
    db.session.commit()
    with pytest.raises(RefundInvalid, match="say how and when the refund was paid"):
        refunds.mark_paid_manually(refund.id, reason="  ", actor="caiwu", now=clock.now())
    run_command(lambda: refunds.mark_paid_manually(refund.id, reason="bank transfer 123", actor="caiwu",
                                                   now=clock.now()))
    assert refund.state == "paid_manually" and refund.payment.amount_refunded == Decimal("40.00")
    with pytest.raises(DoubleRefund, match="already paid_manually; it must not be paid again"):
        refunds.mark_paid_manually(refund.id, reason="again", actor="caiwu", now=clock.now())
    event = db.session.execute(select(ProcessEvent).where(ProcessEvent.event_type == "refund.paid_manually")
                               ).scalars().all()[-1]
    assert event.actor == "caiwu" and "bank transfer 123" in event.payload


def test_the_development_sandbox_refunds_payments_kesu_recorded_but_never_opened_on_it(app, db_session, sandbox,
                                                                                          clock) -> None:
    """`make run`'s sandbox starts empty: the demo orders' payments exist only in Kesu's database."""
    server = start_sandbox(settle_after=0.0, known_trade=kesu_payments(app))
    try:
        point_app_at(app, server.url)
        payment = refunds.record_payment("O-only-in-kesu", "alipay", "PAY-only-in-kesu", Decimal("88.00"), "CNY",
                                         now=clock.now())
        db.session.commit()
        assert submit_refund(_create(payment, clock, "30.00", "kesu-only").id) == "succeeded"
        stranger = refunds.record_payment("O-stranger", "wechat", "PAY-stranger", Decimal("10.00"), "CNY",
                                          now=clock.now())
        db.session.commit()
        assert server.app.ledger.known_trade("wechat", "PAY-unknown") is None
        assert server.app.ledger.known_trade("wechat", stranger.provider_payment_id) == (Decimal("10.00"), "CNY")
    finally:
        point_app_at(app, sandbox.url)
        server.stop()


def _manual(clock, refund_id, reason="银行转账 TX-9"):  # type: ignore[no-untyped-def]
    from app.services.payment_tasks import mark_refund_paid
    from workflows.services import ServiceCall
    return mark_refund_paid(ServiceCall("mark_refund_paid", {"failed_refund_id": refund_id, "reason": reason,
                                                             "actor": "caiwu", "complaint_id": "C-7", "amount": 40.0},
                                        1, "t", "k", clock.now()))


def test_the_process_step_paid_by_hand_marks_the_refund_row(paid, clock) -> None:
    from workflows.services import ServiceError
    refund = _create(paid("alipay"), clock, key="manual")
    refunds.move(refund, refunds.S.FAILED, actor="gateway", now=clock.now())
    db.session.commit()
    assert _manual(clock, refund.id) == {"refund_id": refund.id, "state": "paid_manually"}
    db.session.commit()
    assert refund.state == "paid_manually" and refund.payment.amount_refunded == Decimal("40.00")
    with pytest.raises(ServiceError, match=f"refund {refund.id} cannot be marked paid by hand: .*already paid_manually"):
        _manual(clock, refund.id)  # e.g. marked in the /refunds console meanwhile: an incident that says so


def test_paid_by_hand_without_a_refund_row_is_recorded_in_the_audit_chain(db_session, clock) -> None:
    assert _manual(clock, None) == {"refund_id": None, "state": "paid_manually"}
    db.session.commit()
    event = db.session.execute(select(ProcessEvent).where(ProcessEvent.event_type == "refund.paid_manually")
                               ).scalars().all()[-1]
    assert event.actor == "caiwu" and "C-7" in event.payload and "银行转账 TX-9" in event.payload


def test_paid_by_hand_is_refused_on_the_form_while_the_refund_may_still_be_paid(driver, paid, clock) -> None:
    from app.errors import ValidationFailed
    from app.services.refund_limits import check_refund_form
    refund = _create(paid("alipay"), clock, key="in-flight")
    refunds.move(refund, refunds.S.UNKNOWN, actor="gateway", now=clock.now())
    db.session.commit()
    refund_id = refund.id
    driver.payments._ids = iter([refund_id])  # the process's payment step answers with this refund
    instance_id = driver.start()
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "为您退款", "refund_amount": 40.0,
                                            "refund_reason": "杯子有裂纹"}, actor="xiaowang")
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.advance(hours=24, seconds=1)  # no answer in 24 h: finance
    finance = driver.task(instance_id, "resolve_failed")
    choice = {"failed_refund_action": "mark_paid", "failed_refund_note": "银行转账 TX-1"}
    with pytest.raises(ValidationFailed) as refused:
        check_refund_form(finance, choice, now=clock.now())
    assert refused.value.fields["failed_refund_action"].endswith(f"refund #{refund_id} is unknown, not failed: "
                                                                  "query the gateway again first")
    refunds.move(refunds.get_refund(refund_id), refunds.S.FAILED, actor="gateway", now=clock.now())
    db.session.commit()
    check_refund_form(finance, choice, now=clock.now())  # definitely failed: finance may pay it by hand
    check_refund_form(finance, {"failed_refund_action": "query_again"}, now=clock.now())
