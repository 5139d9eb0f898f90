"""The task page as an agent uses it: the complaint's photos, "correct it" feeding the classifier,
four eyes shown and enforced over HTTP, each action taking its BPMN path, a supervisor reassigning,
and the workspace closed to signed-in customers."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Customer, HumanTask, LabelCorrection, Refund
from app.services import classification, complaints, refunds
from app.services.complaints import Submission
from app.services.demo_customers import load_demo_customers
from tests.customer.conftest import image_bytes
from tests.workspace.conftest import csrf, sign_in


def _complaint_with_a_photo(clock, tmp_path: Path):  # type: ignore[no-untyped-def]
    load_demo_customers("kesu-demo", now=clock.now())
    customer = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
    complaint, _ = complaints.submit(customer, Submission("KS-20261102-02", "product.quality", "耳机左边没声音",
                                                          images=[image_bytes("PNG", size=(32, 24))]),
                                     upload_dir=tmp_path, now=clock.now())
    db.session.commit()
    task = db.session.execute(select(HumanTask).where(HumanTask.instance_id == complaint.instance_id,
                                                      HumanTask.name == "handle")).scalar_one()
    return complaint, task


def test_the_page_shows_the_photos_and_correct_it_stores_a_label_for_retraining(
        driver, make_staff, clock, client, tmp_path) -> None:
    complaint, task = _complaint_with_a_photo(clock, tmp_path)
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert f'src="/complaints/{complaint.id}/photos/{complaint.attachments[0].id}"' in page
    assert '<option value="product.quality" selected>' in page  # "correct it" offers the 13 categories
    assert "emotion 情绪 平静" in page and "(93% confidence 置信度)" in page  # the classification (labels) and its confidence
    answer = client.post(f"/tasks/{task.task_id}/correct", data={"csrf_token": csrf(page),
                                                                 "category": "delivery.damaged", "emotion": "angry"})
    assert answer.status_code == 302
    row = db.session.execute(select(LabelCorrection)).scalar_one()
    assert (row.text, row.category, row.emotion, row.corrected_by, row.source_ref) == (
        "耳机左边没声音", "delivery.damaged", "angry", "ann", task.complaint_ref)
    assert "耳机左边没声音" in str(classification.corrections_as_labelled_set())
    refused = client.post(f"/tasks/{task.task_id}/correct", data={"csrf_token": csrf(page),
                                                                  "category": "weather", "emotion": "angry"})
    assert refused.status_code == 422
    assert "choose one of product.quality" in refused.get_data(as_text=True)
    assert len(db.session.execute(select(LabelCorrection)).all()) == 1


def test_the_requester_sees_why_and_the_server_refuses_their_approval(driver, make_staff, clock, client) -> None:
    instance_id = driver.start()
    handle = driver.task(instance_id, "handle")
    make_staff("zhuguan", roles=["agent", "supervisor"], groups=[handle.candidate_group, "supervisors"])
    sign_in(client, "zhuguan")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    answer = client.post(f"/tasks/{handle.task_id}/complete", data={
        "csrf_token": csrf(page), "outcome": "refund", "reply": "为您退款", "refund_amount": "80"})
    assert answer.status_code == 302
    approval = driver.task(instance_id, "approve_refund")
    page = client.get(f"/tasks/{approval.task_id}").get_data(as_text=True)
    assert 'id="four-eyes">You requested this (zhuguan)' in page
    assert re.search(r'<button type="submit" id="submit" disabled', page)
    answer = client.post(f"/tasks/{approval.task_id}/complete", data={"csrf_token": csrf(page),
                                                                      "approval_decision": "approve"})
    assert answer.status_code == 403
    assert "under the four-eyes rule another person must approve it" in answer.get_data(as_text=True)
    assert driver.task(instance_id, "approve_refund").status == "open"


def test_a_signed_in_customer_cannot_reach_the_workspace(client, clock, db_session) -> None:
    load_demo_customers("kesu-demo", now=clock.now())
    db.session.commit()
    page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    signed_in = client.post("/account/login", data={"csrf_token": token, "login": "13800000001",
                                                    "password": "kesu-demo", "way": "password"})
    assert signed_in.status_code == 302 and client.get("/orders").status_code == 200
    for path in ("/tasks", "/tasks/supervisor", "/tasks/substitutes"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path


@pytest.mark.parametrize("fields, next_task", [
    ({"outcome": "reply"}, "confirm_resolution"),
    ({"outcome": "refund", "refund_amount": "80", "refund_reason": "破损"}, "approve_refund"),
    ({"outcome": "compensate", "compensation_type": "coupon", "compensation_value": "20"}, "confirm_resolution"),
    ({"outcome": "reship"}, "confirm_resolution"),
    ({"outcome": "more_info", "info_request": "请补充照片"}, "request_info"),
    ({"outcome": "escalate"}, "expert_review"),
])
def test_each_action_on_the_form_takes_its_bpmn_path(driver, make_staff, client, fields, next_task) -> None:
    instance_id = driver.start()
    handle = driver.task(instance_id, "handle")
    make_staff("ann", groups=[handle.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    assert f'<option value="{fields["outcome"]}"' in page
    answer = client.post(f"/tasks/{handle.task_id}/complete",
                         data={"csrf_token": csrf(page), "reply": "您好，已为您处理", **fields})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert [t.name for t in driver.open_tasks(instance_id)] == [next_task]
    assert driver.data(instance_id)["outcome"] == fields["outcome"]


def test_a_supervisor_reassigns_from_the_task_page(driver, make_staff, client) -> None:
    handle = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[handle.candidate_group])
    make_staff("abe", groups=["tier2"])
    make_staff("zed", groups=[handle.candidate_group])
    make_staff("boss", roles=["supervisor"])
    sign_in(client, "boss")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    choices = re.findall(r'<option value="(\w+)">\w+ \(\w+\)</option>', page[page.index('id="reassign-to"'):])
    assert choices[:2] == ["ann", "zed"] and set(choices[2:]) == {"abe", "boss"}  # the task's group first
    answer = client.post(f"/tasks/{handle.task_id}/reassign", data={"csrf_token": csrf(page), "username": "zed"})
    assert answer.status_code == 302
    assert driver.task(handle.instance_id, "handle").assignee == "zed"


def test_agents_see_no_reassign_control(driver, make_staff, client) -> None:
    handle = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[handle.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    assert 'id="claim"' in page and 'id="reassign"' not in page


def test_a_refund_above_the_refundable_amount_or_in_fractions_of_a_fen_is_refused_on_the_form(driver, make_staff, client) -> None:
    instance_id = driver.start(amount_paid=299.0, already_refunded=99.0)
    handle = driver.task(instance_id, "handle")
    make_staff("ann", groups=[handle.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    fields = {"csrf_token": csrf(page), "reply": "您好，已为您退款", "outcome": "refund", "refund_reason": "坏了"}
    answer = client.post(f"/tasks/{handle.task_id}/complete", data={**fields, "refund_amount": "200.01"})
    assert answer.status_code == 422
    assert "不能大于可退金额 200.00 / must be at most the refundable 200.00" in answer.get_data(as_text=True)
    answer = client.post(f"/tasks/{handle.task_id}/complete", data={**fields, "refund_amount": "1.234"})
    assert answer.status_code == 422
    assert "最多两位小数 / at most two decimals" in answer.get_data(as_text=True)
    assert [(t.task_id, t.status) for t in driver.open_tasks(instance_id)] == [(handle.task_id, "open")]
    answer = client.post(f"/tasks/{handle.task_id}/complete", data={**fields, "refund_amount": "200"})
    assert answer.status_code == 302
    assert [t.name for t in driver.open_tasks(instance_id)] == ["approve_refund"]


def test_the_approver_sees_the_amount_reason_and_requester_of_the_refund(driver, make_staff, client) -> None:
    instance_id = driver.start(amount_paid=299.0)
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "您好，已为您申请退款",
                                            "refund_amount": 80, "refund_reason": "右耳无声"}, actor="ann")
    approve = driver.task(instance_id, "approve_refund")
    make_staff("boss", roles=["supervisor"], groups=[approve.candidate_group])
    sign_in(client, "boss")
    page = client.get(f"/tasks/{approve.task_id}").get_data(as_text=True)
    shown = " ".join(page[page.index('id="refund-request"'):].split("</p>")[0].split())
    assert "申请退款 <strong>¥80.00</strong> · reason 原因 右耳无声 · requested by 申请人 ann" in shown


def test_finance_sees_why_a_refund_failed(driver, make_staff, client) -> None:
    instance_id = driver.start(amount_paid=299.0)
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "您好，已为您申请退款",
                                            "refund_amount": 80, "refund_reason": "右耳无声"}, actor="ann")
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="boss")
    driver.payments.answer = "refuse"
    driver.run_jobs()
    resolve = driver.task(instance_id, "resolve_failed")
    make_staff("fin", roles=["finance"], groups=[resolve.candidate_group])
    sign_in(client, "fin")
    page = client.get(f"/tasks/{resolve.task_id}").get_data(as_text=True)
    assert '<span id="refund-failure">the gateway refused the refund: trade closed</span>' in page
    assert 'id="refund-request">Refund requested 申请退款 <strong>¥80.00</strong>' in page


def test_finance_sees_the_gateways_error_of_a_failed_refund(driver, make_staff, client, clock) -> None:
    instance_id = driver.start(amount_paid=299.0)
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "您好，已为您申请退款",
                                            "refund_amount": 80, "refund_reason": "右耳无声"}, actor="ann")
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="boss")
    driver.run_jobs()
    driver.confirm_refund(501, state="failed")
    payment = refunds.record_payment("O-qa", "alipay", "qa-trade", Decimal("299"), "CNY", now=clock.now())
    db.session.add(Refund(payment_id=payment.id, provider="alipay", amount=Decimal("80"), currency="CNY",
                          state="failed", idempotency_key="qa", source_key="qa", requested_by="ann", reason="",
                          attempts=1, queries=0, created_at=clock.now(), updated_at=clock.now(),
                          instance_id=instance_id, last_error="ACQ.TRADE_HAS_CLOSE: the trade is closed"))
    db.session.commit()
    resolve = driver.task(instance_id, "resolve_failed")
    make_staff("fin", roles=["finance"], groups=[resolve.candidate_group])
    sign_in(client, "fin")
    page = client.get(f"/tasks/{resolve.task_id}").get_data(as_text=True)
    assert '<span id="refund-failure">ACQ.TRADE_HAS_CLOSE: the trade is closed</span>' in page


def test_the_page_shows_the_category_the_customer_chose_next_to_the_classifiers(driver, make_staff, client) -> None:
    """Triage decides between the two: the customer's pick is in the start data as chosen_category."""
    handle = driver.task(driver.start(chosen_category="order.out_of_stock"), "handle")
    make_staff("ann", groups=[handle.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    assert '<span id="chosen-category">customer chose 顾客选择 订单问题/缺货</span>' in page


def test_a_refund_is_limited_by_what_other_complaints_already_took_from_the_payment(
        driver, make_staff, client, clock) -> None:
    payment = refunds.record_payment("O-twice", "alipay", "PAY-twice", Decimal("299.00"), "CNY", now=clock.now())
    payment.amount_reserved = Decimal("250.00")   # another complaint about the order was refunded since
    db.session.commit()
    instance_id = driver.start(payment_id=payment.id, amount_paid=299.0, already_refunded=0.0)
    handle = driver.task(instance_id, "handle")
    make_staff("ann", groups=[handle.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{handle.task_id}").get_data(as_text=True)
    answer = client.post(f"/tasks/{handle.task_id}/complete", data={
        "csrf_token": csrf(page), "reply": "您好，已为您退款", "outcome": "refund", "refund_amount": "100"})
    assert answer.status_code == 422
    assert "不能大于可退金额 49.00" in answer.get_data(as_text=True)
