"""complaint_handling end to end: every path through the real services, database and worker.

Each test asserts the instance's timeline (completed tasks, fired timers, messages, in
order) and what people and the customer see, not only the end state.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import KnowledgeCase, Notification, ProcessEvent
from app.services.case_operators import qa_bucket
from tests.support.complaints import ProcessDriver

REPLY = {"outcome": "reply", "reply": "您好，已为您核实并处理。"}
SATISFIED = {"satisfied": True, "csat": 5}
CLOSING = ["task.completed:gw_closed", "task.completed:sample_qa", "task.completed:gw_qa",
           "task.completed:gw_qa_join", "task.completed:archive", "task.completed:closed"]


@pytest.fixture
def driver(app, db_session, clock) -> Iterator[ProcessDriver]:  # type: ignore[no-untyped-def]
    processes = ProcessDriver(app, clock)
    yield processes
    processes.restore()


def _completed(driver: ProcessDriver, instance_id: int) -> list[str]:
    return [e for e in driver.timeline(instance_id, "task.completed", "timer.fired", "message.delivered",
                                       "task.cancelled")
            if e.split(":")[-1] in NAMED and (not e.startswith("task.cancelled") or e.split(":")[-1] in PEOPLE)]


PEOPLE = {"handle", "expert_review", "supervisor_review", "request_info", "confirm_resolution", "approve_refund"}


NAMED = {"classify_complaint", "triage", "decide_priority", "decide_routing", "decide_auto_resolution",
         "decide_compensation", "handle", "response_sla_missed", "alert_supervisors", "resolution_sla_missed",
         "expert_review", "supervisor_review", "refund", "notify_info_request", "request_info", "info_timeout",
         "mark_no_information", "notify_no_information", "notify_resolution", "confirm_resolution",
         "confirm_timeout", "count_reopen", "sample_qa", "qa_review", "archive", "closed", "wait_result",
         "pay", "approve_refund", "resolve_failed", "confirmation_timeout"}
HEAD = ["task.completed:classify_complaint", "task.completed:decide_priority", "task.completed:decide_routing",
        "task.completed:decide_auto_resolution"]
TAIL = ["task.completed:sample_qa", "task.completed:archive", "task.completed:closed"]


def _decision(driver: ProcessDriver, instance_id: int, task_name: str) -> dict[str, Any]:
    rows = db.session.execute(select(ProcessEvent.payload).where(
        ProcessEvent.instance_id == instance_id, ProcessEvent.event_type == "decision.evaluated",
        ProcessEvent.task_name == task_name).order_by(ProcessEvent.seq)).scalars().all()
    return json.loads(rows[-1])


def _notifications(instance_id: int) -> list[tuple[str, str, str]]:
    return [(n.channel, n.recipient, n.template) for n in db.session.execute(
        select(Notification).where(Notification.instance_id == instance_id).order_by(Notification.id)).scalars()]


def test_out_of_stock_below_50_is_refunded_at_once_and_says_why(driver: ProcessDriver) -> None:
    instance_id = driver.start(chosen_category="order.out_of_stock", amount_paid=39.0)
    decision = _decision(driver, instance_id, "decide_auto_resolution")
    assert [m["rule_id"] for m in decision["matched"]] == ["a_out_of_stock"]
    assert decision["output"]["auto_resolution_reason"].startswith("商品缺货且订单金额低于50元")
    assert driver.run_jobs() == 1  # pay_refund runs in the worker
    [call] = driver.payments.calls
    assert (call.params["amount"], call.params["requested_by"], call.params["approved_by"]) == (39.0, "system", "system")
    driver.confirm_refund(501)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    confirm = driver.task(instance_id, "confirm_resolution")
    assert confirm.candidate_group == "customer"
    assert driver.data(instance_id)["customer_id"] == "cust-1"
    driver.complete(instance_id, "confirm_resolution", SATISFIED, actor="cust-1")
    assert _completed(driver, instance_id) == HEAD + [
        "task.completed:pay", "message.delivered:wait_result", "task.completed:wait_result",
        "task.completed:refund", "task.completed:notify_resolution", "task.completed:confirm_resolution", *TAIL]
    assert driver.instance(instance_id).status == "completed"
    assert _notifications(instance_id) == [("portal", "cust-1", "resolution")]
    case = db.session.execute(select(KnowledgeCase).where(KnowledgeCase.complaint_id == "C-1001")).scalar_one()
    assert (case.category, case.resolution) == ("order.out_of_stock", "refund")


def test_late_delivery_gets_a_10_yuan_coupon_without_an_agent(driver: ProcessDriver) -> None:
    instance_id = driver.start(chosen_category="delivery.late")
    assert _decision(driver, instance_id, "decide_auto_resolution")["matched"][0]["rule_id"] == "a_late_delivery"
    [notice] = db.session.execute(select(Notification)).scalars().all()
    assert notice.payload["compensation_type"] == "coupon" and notice.payload["compensation_value"] == 10
    assert _completed(driver, instance_id) == HEAD + ["task.completed:notify_resolution"]


def test_low_confidence_goes_to_triage_and_the_fixed_category_routes_it(driver: ProcessDriver) -> None:
    driver.classifier.needs_triage = True
    instance_id = driver.start()
    [triage] = driver.open_tasks(instance_id)
    assert (triage.name, triage.candidate_group) == ("triage", "tier1-product")
    driver.complete(instance_id, "triage", {"category": "delivery.damaged"}, actor="xiaowang")
    [handle] = driver.open_tasks(instance_id)
    assert (handle.name, handle.candidate_group) == ("handle", "tier1-logistics")
    assert _completed(driver, instance_id) == ["task.completed:classify_complaint", "task.completed:triage",
                                               *HEAD[1:], "task.completed:decide_compensation"]


def test_reply_only_is_notified_confirmed_and_archived(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    handle = driver.task(instance_id, "handle")
    assert (handle.candidate_group, handle.priority) == ("tier1-product", 3)
    driver.complete(instance_id, "handle", REPLY, actor="xiaowang")
    driver.complete(instance_id, "confirm_resolution", SATISFIED, actor="cust-1")
    assert _completed(driver, instance_id) == HEAD + [
        "task.completed:decide_compensation", "task.completed:handle", "task.completed:notify_resolution",
        "task.completed:confirm_resolution", *TAIL]
    case = db.session.execute(select(KnowledgeCase)).scalar_one()
    assert (case.resolution, case.reply) == ("reply", REPLY["reply"])


def test_missed_response_sla_alerts_supervisors_and_the_task_stays_open(driver: ProcessDriver) -> None:
    instance_id = driver.start(text="气死了！！", customer_tier="vip")  # high: respond in 30 minutes
    driver.advance(minutes=29)
    assert _notifications(instance_id) == []
    driver.advance(minutes=2)
    assert _notifications(instance_id) == [("staff", "supervisors", "response_sla_missed")]
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    assert _completed(driver, instance_id)[-3:] == [
        "timer.fired:response_sla_missed", "task.completed:response_sla_missed", "task.completed:alert_supervisors"]


def test_missed_resolution_sla_escalates_to_tier_2(driver: ProcessDriver) -> None:
    instance_id = driver.start()  # low priority: resolve within 3 days
    driver.advance(days=3, seconds=1)
    [expert] = driver.open_tasks(instance_id)
    assert (expert.name, expert.candidate_group) == ("expert_review", "tier2")
    steps = _completed(driver, instance_id)
    assert steps[steps.index("task.completed:decide_compensation") + 1:] == [
        "timer.fired:response_sla_missed", "timer.fired:resolution_sla_missed", "task.completed:response_sla_missed",
        "task.cancelled:handle", "task.completed:resolution_sla_missed", "task.completed:alert_supervisors"]
    driver.complete(instance_id, "expert_review", REPLY, actor="laozhang")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]


def test_more_information_asked_and_given_goes_back_to_the_agent(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", {"outcome": "more_info", "reply": "请补充照片",
                                            "info_request": "请拍一张裂纹的照片"}, actor="xiaowang")
    ask = driver.task(instance_id, "request_info")
    assert ask.candidate_group == "customer" and ask.due_at == driver.clock.now() + timedelta(hours=72)
    assert _notifications(instance_id) == [("portal", "cust-1", "information_requested")]
    driver.advance(hours=71)
    driver.complete(instance_id, "request_info", {"additional_info": "照片已上传", "additional_images": 1},
                    actor="cust-1")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    steps = _completed(driver, instance_id)
    assert steps[steps.index("task.completed:handle"):] == [
        "task.completed:handle", "task.completed:notify_info_request", "task.completed:request_info"]


def test_more_information_not_given_in_72_hours_closes_the_complaint(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", {"outcome": "more_info", "reply": "请补充照片",
                                            "info_request": "请拍一张裂纹的照片"}, actor="xiaowang")
    driver.advance(hours=72, seconds=1)
    assert driver.open_tasks(instance_id) == []
    steps = _completed(driver, instance_id)
    assert steps[steps.index("task.completed:notify_info_request"):] == [
        "task.completed:notify_info_request", "timer.fired:info_timeout", "task.completed:info_timeout",
        "task.cancelled:request_info", "task.completed:mark_no_information", "task.completed:notify_no_information",
        *TAIL]
    assert _notifications(instance_id)[-1] == ("portal", "cust-1", "closed_no_information")
    assert db.session.execute(select(KnowledgeCase.resolution)).scalar_one() == "closed_no_information"


def test_not_satisfied_reopens_to_tier_2_then_to_a_supervisor(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", REPLY, actor="xiaowang")
    driver.complete(instance_id, "confirm_resolution", {"satisfied": False, "customer_comment": "没解决"},
                    actor="cust-1")
    assert [(t.name, t.candidate_group) for t in driver.open_tasks(instance_id)] == [("expert_review", "tier2")]
    driver.complete(instance_id, "expert_review", REPLY, actor="laozhang")
    driver.complete(instance_id, "confirm_resolution", {"satisfied": False, "customer_comment": "还是不行"},
                    actor="cust-1")
    assert [(t.name, t.candidate_group) for t in driver.open_tasks(instance_id)] == [
        ("supervisor_review", "supervisors")]
    driver.complete(instance_id, "supervisor_review", {"outcome": "compensate", "reply": "补偿您20元券",
                                                       "compensation_type": "coupon", "compensation_value": 20},
                    actor="zhuguan")
    driver.complete(instance_id, "confirm_resolution", SATISFIED, actor="cust-1")
    steps = _completed(driver, instance_id)
    assert steps[steps.index("task.completed:handle"):] == [
        "task.completed:handle", "task.completed:notify_resolution", "task.completed:confirm_resolution",
        "task.completed:count_reopen", "task.completed:expert_review", "task.completed:notify_resolution",
        "task.completed:confirm_resolution", "task.completed:count_reopen", "task.completed:supervisor_review",
        "task.completed:notify_resolution", "task.completed:confirm_resolution", *TAIL]
    assert driver.instance(instance_id).status == "completed"


def test_72_hours_of_silence_closes_the_complaint_as_resolved(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", REPLY, actor="xiaowang")
    driver.advance(hours=71)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    driver.advance(hours=1, seconds=1)
    steps = _completed(driver, instance_id)
    assert steps[steps.index("task.completed:notify_resolution"):] == [
        "task.completed:notify_resolution", "timer.fired:confirm_timeout", "task.completed:confirm_timeout",
        "task.cancelled:confirm_resolution", *TAIL]
    assert driver.instance(instance_id).status == "completed"


def _close_with_reply(driver: ProcessDriver, complaint_id: str) -> int:
    instance_id = driver.start(complaint_id=complaint_id)
    driver.complete(instance_id, "handle", REPLY, actor="xiaowang")
    driver.complete(instance_id, "confirm_resolution", SATISFIED, actor="cust-1")
    return instance_id


def test_qa_sampling_hits_the_same_cases_every_run(driver: ProcessDriver) -> None:
    sampled = [f"C-{n}" for n in range(1000, 1030) if qa_bucket(f"C-{n}") == 0]
    assert sampled == ["C-1005", "C-1009", "C-1021", "C-1028"]  # fixed by SHA-256, on every machine and run
    assert sum(qa_bucket(f"C-{n}") == 0 for n in range(10_000)) == 968  # about one in ten
    picked = _close_with_reply(driver, "C-1005")
    skipped = _close_with_reply(driver, "C-1001")
    [review] = driver.open_tasks(picked)
    assert (review.name, review.candidate_group) == ("qa_review", "qa")
    assert driver.open_tasks(skipped) == [] and driver.instance(skipped).status == "completed"
    driver.complete(picked, "qa_review", {"qa_accuracy": 5, "qa_empathy": 4, "qa_timeliness": 5,
                                          "qa_compliant": True}, actor="qa.chen")
    steps = _completed(driver, picked)
    assert steps[-4:] == ["task.completed:sample_qa", "task.completed:qa_review", "task.completed:archive",
                          "task.completed:closed"]


def test_qa_scorecard_refuses_a_non_compliant_mark_without_a_comment(driver: ProcessDriver) -> None:
    from app.errors import ValidationFailed
    picked = _close_with_reply(driver, "C-1005")
    with pytest.raises(ValidationFailed) as caught:
        driver.complete(picked, "qa_review", {"qa_accuracy": 2, "qa_empathy": 2, "qa_timeliness": 2,
                                              "qa_compliant": False}, actor="qa.chen")
    assert caught.value.fields == {"qa_comment": "this field is required"}
