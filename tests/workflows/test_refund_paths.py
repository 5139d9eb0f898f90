"""refund_approval end to end, called from complaint_handling: approval levels, four eyes,
payment confirmed, failed, refused or unconfirmed, and invalid amounts caught by the caller.

Most tests use `tests.support.complaints.FakePayments` for `pay_refund` (it follows the
payments contract and lets a test choose failed / refused / unconfirmed answers; the
confirmation goes through the real `processes.deliver_message`). The last test pays through
the payments package's own `pay_refund` and its sandbox gateway on loopback.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from app.errors import FourEyesViolation, ValidationFailed
from app.extensions import db
from app.models import HumanTask
from tests.support.complaints import ProcessDriver
from workflows.definitions import build_bundle, duplicate_ids, parse_xml_safely
from workflows.validation import validate_files
from app.services.definitions import read_seed_files
from tests.support.complaints import ROOT
from tests.payments.conftest import paid, sandbox, sandbox_server  # noqa: F401  (fixtures)


@pytest.fixture
def driver(app, db_session, clock) -> Iterator[ProcessDriver]:  # type: ignore[no-untyped-def]
    processes = ProcessDriver(app, clock)
    yield processes
    processes.restore()


PEOPLE = {"handle", "approve_refund", "resolve_failed", "expert_review", "confirm_resolution"}
STEPS = {"refund_requested", "check_refund", "decide_level", "approve_refund", "pay", "pay_rejected",
         "note_refusal", "wait_result", "confirmation_timeout", "resolve_failed", "record_succeeded",
         "record_rejected", "record_paid_manually", "record_cancelled", "refund", "refund_invalid",
         "notify_resolution", "handle", "notify_refund_rejected", "notify_refund_failed", "notify_refund_cancelled",
         "prepare_resend", "record_manual_refund"}


def _steps(driver: ProcessDriver, instance_id: int, after: str = "task.completed:handle") -> list[str]:
    events = [e for e in driver.timeline(instance_id, "task.completed", "timer.fired", "message.delivered",
                                         "task.cancelled", "service.failed")
              if e.split(":")[-1] in STEPS and (not e.startswith("task.cancelled") or e.split(":")[-1] in PEOPLE)]
    return events[events.index(after) + 1:]


def _refund(driver: ProcessDriver, amount: float, *, agent: str = "xiaowang", **start: Any) -> int:
    instance_id = driver.start(**start)
    driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "为您退款", "refund_amount": amount,
                                            "refund_reason": "杯子有裂纹"}, actor=agent)
    return instance_id


def _approval(driver: ProcessDriver, instance_id: int) -> HumanTask:
    return driver.task(instance_id, "approve_refund")


def test_refund_below_500_is_approved_by_a_team_lead_and_paid(driver: ProcessDriver) -> None:
    instance_id = _refund(driver, 80.0)
    approval = _approval(driver, instance_id)
    assert (approval.candidate_group, approval.title) == ("team-leads", "Approve refund")
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    assert driver.run_jobs() == 1
    [call] = driver.payments.calls
    assert {k: call.params[k] for k in ("payment_id", "amount", "currency", "requested_by", "approved_by",
                                        "complaint_id")} == {
        "payment_id": 1, "amount": 80.0, "currency": "CNY", "requested_by": "xiaowang", "approved_by": "zhuguan",
        "complaint_id": "C-1001"}
    assert call.params["reason"] == "杯子有裂纹"
    driver.confirm_refund(501)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    assert _steps(driver, instance_id) == [
        "task.completed:refund_requested", "task.completed:check_refund", "task.completed:decide_level",
        "task.completed:approve_refund", "task.completed:pay", "message.delivered:wait_result",
        "task.completed:wait_result", "task.completed:record_succeeded", "task.completed:refund",
        "task.completed:notify_resolution"]
    data = driver.data(instance_id)
    assert (data["refund_state"], data["refund_result"]["provider_refund_id"]) == ("succeeded", "P-501")


def test_refund_from_500_needs_finance(driver: ProcessDriver) -> None:
    instance_id = _refund(driver, 600.0, amount_paid=800.0)
    assert _approval(driver, instance_id).candidate_group == "finance"
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="caiwu")
    driver.run_jobs()
    driver.confirm_refund(501)
    assert driver.payments.calls[0].params["approved_by"] == "caiwu"
    assert _steps(driver, instance_id)[2:5] == ["task.completed:decide_level", "task.completed:approve_refund",
                                                "task.completed:pay"]


def test_the_requester_cannot_approve_their_own_refund(driver: ProcessDriver) -> None:
    instance_id = _refund(driver, 80.0, agent="zhuguan")
    with pytest.raises(FourEyesViolation) as caught:
        driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    assert str(caught.value) == ("you asked for this yourself (requested_by = zhuguan); under the four-eyes rule "
                                 "another person must approve it")
    db.session.rollback()
    assert driver.payments.calls == [] and _approval(driver, instance_id).status == "open"
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="laoli")
    assert "task.completed:approve_refund" in _steps(driver, instance_id)


def test_the_form_cannot_claim_someone_else_asked(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    with pytest.raises(ValidationFailed) as caught:
        driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "退款", "refund_amount": 10,
                                                "requested_by": "someone-else"}, actor="xiaowang")
    assert list(caught.value.fields) == ["requested_by"]
    assert caught.value.fields["requested_by"].startswith("unknown field; send ")


def test_a_rejected_approval_goes_back_to_the_agent(driver: ProcessDriver) -> None:
    instance_id = _refund(driver, 80.0)
    with pytest.raises(ValidationFailed) as caught:
        driver.complete(instance_id, "approve_refund", {"approval_decision": "reject"}, actor="zhuguan")
    assert caught.value.fields == {"approval_note": "this field is required"}
    db.session.rollback()
    driver.complete(instance_id, "approve_refund", {"approval_decision": "reject", "approval_note": "先补发"},
                    actor="zhuguan")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    assert driver.data(instance_id)["refund_state"] == "rejected"
    assert _steps(driver, instance_id)[-4:] == ["task.completed:approve_refund", "task.completed:record_rejected",
                                                "task.completed:notify_refund_rejected", "task.completed:refund"]


@pytest.mark.parametrize("amount, reason", [
    (150.0, "the refund amount 150.0 is more than the refundable 100.0 (paid 120.0, already refunded 20.0)"),
    (-1.0, None),
])
def test_an_invalid_amount_is_a_bpmn_error_the_caller_catches(driver: ProcessDriver, amount: float,
                                                              reason: str | None) -> None:
    if reason is None:  # the form already refuses it
        instance_id = driver.start(already_refunded=20.0)
        with pytest.raises(ValidationFailed) as caught:
            driver.complete(instance_id, "handle", {"outcome": "refund", "reply": "退款", "refund_amount": amount},
                            actor="xiaowang")
        assert caught.value.fields == {"refund_amount": "-1.0 is less than or equal to the minimum of 0"}
        return
    instance_id = _refund(driver, amount, already_refunded=20.0)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    assert driver.data(instance_id)["refund_error"] == {"reason": reason, "refund_amount": amount, "refundable": 100.0}
    assert _steps(driver, instance_id)[:3] == ["task.completed:refund_requested", "task.completed:check_refund",
                                               "task.completed:refund_invalid"]
    assert driver.payments.calls == []


def test_a_failed_payment_goes_to_finance_who_marks_it_paid(driver: ProcessDriver) -> None:
    instance_id = _refund(driver, 80.0)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.confirm_refund(501, state="failed")
    finance = driver.task(instance_id, "resolve_failed")
    assert finance.candidate_group == "finance"
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "mark_paid",
                                                    "failed_refund_note": "银行转账 TX-88"}, actor="caiwu")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    assert driver.data(instance_id)["refund_state"] == "paid_manually"
    [marked] = driver.payments.marked_paid  # recorded on the refund, not only in the process
    assert marked.params == {"failed_refund_id": 501, "reason": "银行转账 TX-88", "actor": "caiwu", "complaint_id": "C-1001",
                             "amount": 80.0}
    assert _steps(driver, instance_id, "task.completed:pay") == [
        "message.delivered:wait_result", "task.completed:wait_result", "task.completed:notify_refund_failed",
        "task.completed:resolve_failed", "task.completed:record_paid_manually", "task.completed:record_manual_refund",
        "task.completed:refund", "task.completed:notify_resolution"]


def test_no_confirmation_in_24_hours_goes_to_finance_who_queries_again(driver: ProcessDriver) -> None:
    instance_id = _refund(driver, 80.0)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    driver.advance(hours=24, seconds=1)
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "query_again"}, actor="caiwu")
    assert driver.open_tasks(instance_id) == []
    driver.confirm_refund(501)
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    assert _steps(driver, instance_id, "task.completed:pay") == [
        "timer.fired:confirmation_timeout", "task.completed:confirmation_timeout", "task.completed:resolve_failed",
        "message.delivered:wait_result", "task.completed:wait_result", "task.completed:record_succeeded",
        "task.completed:refund", "task.completed:notify_resolution"]


def test_a_refused_refund_goes_to_finance_who_cancels_it_with_a_reason(driver: ProcessDriver) -> None:
    driver.payments.answer = "refuse"
    instance_id = _refund(driver, 80.0)
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    driver.run_jobs()
    with pytest.raises(ValidationFailed) as caught:
        driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "cancel"}, actor="caiwu")
    assert caught.value.fields == {"failed_refund_note": "this field is required"}
    db.session.rollback()
    driver.complete(instance_id, "resolve_failed", {"failed_refund_action": "cancel",
                                                    "failed_refund_note": "订单已关闭，改为补发"}, actor="caiwu")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    data = driver.data(instance_id)
    assert (data["refund_state"], data["refund"]["reason"]) == (
        "cancelled", "the gateway refused the refund: trade closed")
    assert _steps(driver, instance_id, "task.completed:approve_refund") == [
        "service.failed:pay", "task.completed:pay_rejected", "task.completed:note_refusal",
        "task.completed:notify_refund_failed", "task.completed:resolve_failed", "task.completed:record_cancelled",
        "task.completed:notify_refund_cancelled", "task.completed:refund"]


def test_the_seed_files_validate_without_errors(app) -> None:  # type: ignore[no-untyped-def]
    files = read_seed_files(str(ROOT / "bpmn"), str(ROOT / "rules"))
    with app.app_context():
        operators = app.extensions["kesu.runtime"].operators
        known = {op.name for op in operators}
    problems = [p for p in validate_files(files) if p.severity == "error"]
    assert problems == []
    assert {"complaint_handling", "refund_approval"} <= set(build_bundle(files).specs)
    assert {"classify", "notify_customer", "notify_staff", "sample_for_qa", "archive_case"} <= known


def test_the_same_operator_in_two_service_tasks_is_not_a_duplicate_id() -> None:
    text = (ROOT / "bpmn" / "complaint_handling.bpmn").read_text(encoding="utf-8")
    assert text.count('serviceTaskOperator id="notify_customer"') == 3
    refund_text = (ROOT / "bpmn" / "refund_approval.bpmn").read_text(encoding="utf-8")
    assert refund_text.count('serviceTaskOperator id="notify_customer"') == 3  # rejected, failed, given up
    assert duplicate_ids(parse_xml_safely(text, filename="c.bpmn"), "c.bpmn") == []
    clash = text.replace('id="gw_qa_join"', 'id="archive_case"').replace('"gw_qa_join"', '"archive_case"')
    [problem] = duplicate_ids(parse_xml_safely(clash, filename="c.bpmn"), "c.bpmn")
    assert problem.message.startswith("id 'archive_case' is used by both")


# ---------------------------------------------------------------- through the real payments package


@pytest.fixture
def real_payments(driver: ProcessDriver, app):  # type: ignore[no-untyped-def]
    """Put the payments package's own `pay_refund` back in place of the contract fake."""
    real = driver._saved["pay_refund"]
    assert real is not None, "the payments package registers pay_refund"
    app.extensions["kesu.runtime"].operators._operators["pay_refund"] = real
    return driver


def test_team_lead_refund_is_paid_through_the_sandbox_gateway(real_payments: ProcessDriver, paid) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    driver = real_payments
    payment = paid(amount="120.00")
    instance_id = _refund(driver, 80.0, payment_id=payment.id, complaint_id="C-2001")
    driver.complete(instance_id, "approve_refund", {"approval_decision": "approve"}, actor="zhuguan")
    for _ in range(5):  # the payout job, then any query or notification the gateway's answer needs
        driver.advance(minutes=5)
        if [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]:
            break
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
    data = driver.data(instance_id)
    assert data["refund_state"] == "succeeded" and data["refund"]["refund_id"] > 0
    steps = _steps(driver, instance_id)
    assert steps[:5] == ["task.completed:refund_requested", "task.completed:check_refund",
                         "task.completed:decide_level", "task.completed:approve_refund", "task.completed:pay"]
    assert steps[-3:] == ["task.completed:record_succeeded", "task.completed:refund",
                          "task.completed:notify_resolution"]
