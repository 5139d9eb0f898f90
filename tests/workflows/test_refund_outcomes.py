"""The customer hears how a refund ended, and finance can send a refused refund again.

A refund the approver rejects, that the gateway definitely does not pay, or that finance gives up
is told to the customer (an outbox message in their language, from the refund process's
notify_customer steps) and shown on their timeline; "send again" is a new payment attempt
(`retry_of` the failed refund, `attempt` 2, 3, ...), offered only after a definite failure.
Payments here are `tests.support.complaints.FakePayments`; tests/payments/test_send_again.py pays
a second attempt through the real `pay_refund` and the sandbox gateway.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Complaint, Customer, Notification, User
from app.services import complaints
from app.services.complaint_timeline import progress
from app.services.complaints import Submission
from app.services.demo_customers import load_demo_customers
from app.services.outbox import language_of, render
from tests.support.complaints import ProcessDriver

NOTICES = ("refund_rejected", "refund_failed", "refund_cancelled")


def _submitted(clock, tmp_path: Path, language: str | None) -> Complaint:  # type: ignore[no-untyped-def]
    """A real complaint of a demo customer who reads ``language`` (None: the default), and its agent."""
    load_demo_customers("kesu-demo", now=clock.now())
    customer = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
    customer.language = language
    complaint, _ = complaints.submit(customer, Submission("KS-20261102-02", "product.quality", "耳机左边没声音"),
                                     upload_dir=tmp_path, now=clock.now())
    for username, name in (("xiaowang", "小王"), ("zhuguan", "主管")):
        user = User(username=username, display_name=name, roles=["agent"], groups=["tier1-product"],
                    created_at=clock.now())
        user.set_password("agent-password")
        db.session.add(user)
    db.session.commit()
    return complaint


def _ask_refund(driver: ProcessDriver, instance_id: int, amount: float = 80.0) -> None:
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "为您退款", "refund_amount": amount,
                                            "refund_reason": "耳机坏了"}, actor="xiaowang")


def _notices(instance_id: int) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(
        Notification.instance_id == instance_id, Notification.template.in_(NOTICES))
        .order_by(Notification.id)).scalars())


def _timeline(app: Flask, complaint: Complaint, language: str) -> list[str]:
    with app.test_request_context(headers={"Accept-Language": language}):
        return [entry.text for entry in progress(complaint).timeline]


def _sent(app: Flask, row: Notification) -> tuple[str, str]:
    """Subject and text as the outbox sends the row: in its customer's language."""
    return render(row, app.jinja_env, language=language_of(row, default="zh"))


def test_a_rejected_refund_is_told_to_the_customer_in_their_language_with_the_reason(
        app, driver: ProcessDriver, clock, tmp_path: Path) -> None:
    complaint = _submitted(clock, tmp_path, "en")
    instance_id = complaint.instance_id
    _ask_refund(driver, instance_id)
    assert _notices(instance_id) == []
    driver.complete(instance_id, "approve_refund", {"approval_decision": "reject",
                                                    "approval_note": "the order was already refunded"},
                    actor="zhuguan")
    [row] = _notices(instance_id)
    assert (row.template, row.customer_id, row.complaint_id) == (
        "refund_rejected", str(complaint.customer_id), complaint.reference)
    subject, text = _sent(app, row)
    assert subject == f"Refund for complaint {complaint.reference} not approved"
    assert "The refund of 80.00 CNY" in text and "Reason: the order was already refunded" in text
    assert driver.payments.calls == [] and [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    timeline = _timeline(app, complaint, "en")
    rejected = "The shop did not approve the refund of ¥80.00. Reason: the order was already refunded"
    assert timeline.index("Agent 小王 has requested a refund of ¥80.00 for you") < timeline.index(rejected), timeline
    assert "商家未批准 ¥80.00 的退款。原因：the order was already refunded" in _timeline(app, complaint, "zh-CN")


def test_a_chinese_customer_is_told_in_chinese(app, driver: ProcessDriver, clock, tmp_path: Path) -> None:
    complaint = _submitted(clock, tmp_path, "zh_CN")
    _ask_refund(driver, complaint.instance_id)
    driver.complete(complaint.instance_id, "approve_refund", {"approval_decision": "reject",
                                                              "approval_note": "请先退货"}, actor="zhuguan")
    [row] = _notices(complaint.instance_id)
    subject, text = _sent(app, row)
    assert subject == f"投诉 {complaint.reference} 的退款未获批准"
    assert "退款 ¥80.00 未获商家批准" in text and "原因：请先退货" in text


def test_a_definite_failure_goes_to_finance_and_the_customer_hears_it_is_being_handled(
        app, driver: ProcessDriver, clock, tmp_path: Path) -> None:
    complaint = _submitted(clock, tmp_path, "en")
    instance_id = complaint.instance_id
    _ask_refund(driver, instance_id)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.confirm_refund(501, state="failed")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["resolve_failed"]
    [row] = _notices(instance_id)
    assert row.template == "refund_failed"
    assert "finance team is handling it" in _sent(app, row)[1]
    assert "The refund of ¥80.00 did not go through; our finance team is handling it" in _timeline(app, complaint, "en")


def test_no_confirmation_in_time_is_not_a_failure_the_customer_is_told_nor_one_to_send_again(
        driver: ProcessDriver) -> None:
    instance_id = driver.start()
    _ask_refund(driver, instance_id)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.advance(hours=24, seconds=1)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["resolve_failed"]
    assert _notices(instance_id) == []
    # the first attempt may still be paid: a new key now could move the money twice
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "send_again"}, actor="caiwu")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["resolve_failed"]
    assert len(driver.payments.calls) == 1


def test_finance_sends_a_failed_refund_again_as_a_second_attempt(app, driver: ProcessDriver, clock,
                                                                 tmp_path: Path) -> None:
    complaint = _submitted(clock, tmp_path, None)
    instance_id = complaint.instance_id
    _ask_refund(driver, instance_id)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.confirm_refund(501, state="failed")
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "send_again"}, actor="caiwu")
    driver.run_jobs()
    first, second = driver.payments.calls
    assert (first.params["retry_of"], first.params["attempt"]) == (None, 1)
    assert (second.params["retry_of"], second.params["attempt"]) == (501, 2)
    assert second.idempotency_key != first.idempotency_key
    assert {k: second.params[k] for k in ("amount", "approved_by", "requested_by")} == {
        "amount": 80.0, "approved_by": "zhuguan", "requested_by": "xiaowang"}
    driver.confirm_refund(502)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    assert driver.data(instance_id)["refund_state"] == "succeeded"
    assert [row.template for row in _notices(instance_id)] == ["refund_failed"]


def test_a_second_failure_is_told_again_and_a_third_attempt_counts_on(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    _ask_refund(driver, instance_id)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    for refund_id in (501, 502):
        driver.confirm_refund(refund_id, state="failed")
        driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "send_again"}, actor="caiwu")
        driver.run_jobs()
    assert [(c.params["retry_of"], c.params["attempt"]) for c in driver.payments.calls] == [
        (None, 1), (501, 2), (502, 3)]
    assert [row.template for row in _notices(instance_id)] == ["refund_failed", "refund_failed"]


def test_finance_gives_up_and_the_customer_is_told(app, driver: ProcessDriver, clock, tmp_path: Path) -> None:
    complaint = _submitted(clock, tmp_path, "en")
    instance_id = complaint.instance_id
    driver.payments.answer = "refuse"
    _ask_refund(driver, instance_id)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "cancel",
                                                    "failed_refund_note": "订单已关闭，改为补发"}, actor="caiwu")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    failed, cancelled = _notices(instance_id)
    assert (failed.template, cancelled.template) == ("refund_failed", "refund_cancelled")
    subject, text = _sent(app, cancelled)
    assert subject == f"Refund for complaint {complaint.reference} cancelled"
    assert "订单已关闭" not in text, "finance's note is internal"
    timeline = _timeline(app, complaint, "en")
    told = [text for text in timeline if text.startswith("The refund of")]
    assert told == ["The refund of ¥80.00 did not go through; our finance team is handling it",
                    "The refund of ¥80.00 was cancelled; we will contact you with another solution"], timeline
