"""Every outcome of the agent's form carries a reply to the customer, and the customer's timeline
shows it with the outcome (refund, compensation, re-ship, more information, escalation, reply);
the agent's internal note never reaches the customer."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Complaint, Customer, User
from app.services import complaints
from app.services.complaint_timeline import progress
from app.services.complaints import Submission
from app.services.demo_customers import load_demo_customers

REPLY = "您好，已核实您的问题，给您添麻烦了"
NOTE = "内部：此顾客上月已投诉两次"


@pytest.mark.parametrize("fields, decision", [
    ({"outcome": "reply"}, None),
    ({"outcome": "refund", "refund_amount": 80, "refund_reason": "破损"}, "客服小王已为您申请退款 ¥80.00"),
    ({"outcome": "compensate", "compensation_type": "coupon", "compensation_value": 20}, "客服小王已为您发放补偿"),
    ({"outcome": "reship"}, "客服小王已为您安排补发"),
    ({"outcome": "more_info", "info_request": "请补充照片"}, "客服小王需要您补充信息"),
    ({"outcome": "escalate"}, "客服小王已升级处理"),
])
def test_the_customer_sees_the_reply_with_every_outcome_but_never_the_internal_note(
        app, driver, clock, tmp_path: Path, fields, decision) -> None:
    load_demo_customers("kesu-demo", now=clock.now())
    customer = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
    complaint, _ = complaints.submit(customer, Submission("KS-20261102-02", "product.quality", "耳机左边没声音"),
                                     upload_dir=tmp_path, now=clock.now())
    agent = User(username="xiaowang", display_name="小王", roles=["agent"], groups=["tier1-product"],
                 created_at=clock.now())
    agent.set_password("agent-password")
    db.session.add(agent)
    db.session.commit()
    driver.complete(complaint.instance_id, "handle", {**fields, "reply": REPLY, "internal_note": NOTE},
                    actor="xiaowang")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        timeline = [entry.text for entry in progress(complaint).timeline]
    assert f"客服小王已回复您：{REPLY}" in timeline, timeline
    assert timeline.count(f"客服小王已回复您：{REPLY}") == 1, "the reply is told once"
    if decision:
        assert any(text.startswith(decision) for text in timeline), timeline
        assert timeline.index(f"客服小王已回复您：{REPLY}") < next(
            i for i, text in enumerate(timeline) if text.startswith(decision)), "the reply, then what was decided"
    assert not any(NOTE in text or "内部" in text for text in timeline), timeline


def test_an_outcome_without_a_reply_tells_only_the_decision(app, driver, clock, tmp_path: Path) -> None:
    """Replies recorded before the reply became required (older instances) still read well."""
    from app.services.complaint_timeline import _outcome
    assert _outcome({"outcome": "reship", "reply": "  "}, "客服小王") == [
        "%(who)s has arranged a replacement shipment for you" % {"who": "客服小王"}]


def _submitted(clock, tmp_path: Path) -> tuple[Customer, Complaint]:  # type: ignore[no-untyped-def]
    load_demo_customers("kesu-demo", now=clock.now())
    customer = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
    complaint, _ = complaints.submit(customer, Submission("KS-20261102-02", "product.quality", "耳机左边没声音"),
                                     upload_dir=tmp_path, now=clock.now())
    db.session.commit()
    return customer, complaint


def test_a_second_reply_with_the_same_outcome_reaches_the_customer_too(app, driver, clock, tmp_path: Path) -> None:
    """The task.completed event stores only what changed; a reply after a reopen keeps the outcome "reply"."""
    customer, complaint = _submitted(clock, tmp_path)
    instance_id = complaint.instance_id
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": REPLY}, actor="xiaowang")
    driver.complete(instance_id, "confirm_resolution", {"satisfied": False, "customer_comment": "还是没声音"},
                    actor=f"customer:{customer.id}")
    [second] = [t.name for t in driver.open_tasks(instance_id)]
    driver.complete(instance_id, second, {"outcome": "reply", "reply": "已为您安排换新"}, actor="laozhang")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        timeline = [entry.text for entry in progress(complaint).timeline]
    assert any(text.endswith("已回复您：已为您安排换新") for text in timeline), timeline


def test_the_reply_promise_is_gone_once_staff_answered(app, driver, clock, tmp_path: Path) -> None:
    """Asking for more information keeps the complaint in progress: "we will reply by" would be a stale promise."""
    _customer, complaint = _submitted(clock, tmp_path)
    with app.test_request_context():
        assert progress(complaint).reply_by is not None
    driver.complete(complaint.instance_id, "handle", {"outcome": "more_info", "reply": REPLY,
                                                      "info_request": "请补充照片"}, actor="xiaowang")
    with app.test_request_context():
        shown = progress(complaint)
    assert shown.status == "processing" and shown.reply_by is None
