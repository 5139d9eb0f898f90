"""pay_refund through a tiny process: service task (async job) -> refund_result message -> end."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Job, ProcessEvent, ProcessInstance, Refund
from app.services import definitions, processes
from app.worker import run_one_job
from tests.support.engine import read_files


def _start(app, clock, payment, amount="30.00", **data):  # type: ignore[no-untyped-def]
    definitions.deploy(read_files("pay_and_wait.bpmn", folder="payments"), actor="t", now=clock.now())
    instance = processes.start_instance("pay_and_wait", {
        "payment_id": payment.id, "amount": amount, "requested_by": "xiaowang", "approved_by": "zhuguan",
        "complaint_id": "C-7", **data}, actor="xiaowang", now=clock.now())
    db.session.commit()
    return instance.id


def _run_jobs(app) -> int:  # type: ignore[no-untyped-def]
    count = 0
    while run_one_job(app, "w1"):
        count += 1
    return count


def _events(instance_id: int) -> list[str]:
    return db.session.execute(select(ProcessEvent.event_type).where(ProcessEvent.instance_id == instance_id)
                              .order_by(ProcessEvent.seq)).scalars().all()


def test_a_synchronous_success_still_reaches_the_waiting_instance(app, clock, paid, sandbox) -> None:
    instance_id = _start(app, clock, paid("alipay"))
    assert _run_jobs(app) == 2  # the pay_refund job, then the refund_result job
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.status == "completed"
    refund = db.session.execute(select(Refund).where(Refund.instance_id == instance_id)).scalar_one()
    assert (refund.state, refund.complaint_id, refund.requested_by, refund.approved_by) == (
        "succeeded", "C-7", "xiaowang", "zhuguan")
    state = processes.load_execution(instance, now=clock.now()).data
    assert state["refund"] == {"refund_id": refund.id, "state": "succeeded"}
    assert state["result"]["state"] == "succeeded" and state["result"]["refund_id"] == refund.id
    assert "message.delivered" in _events(instance_id)
    assert refund.source_key == db.session.execute(select(Job.idempotency_key).where(Job.kind == "service")).scalar()


def test_a_notification_completes_a_submitted_refund(app, clock, paid, sandbox, client) -> None:
    instance_id = _start(app, clock, paid("stripe"))
    _run_jobs(app)
    refund = db.session.execute(select(Refund).where(Refund.instance_id == instance_id)).scalar_one()
    assert refund.state == "submitted"
    assert db.session.get(ProcessInstance, instance_id).status == "waiting"
    entry = sandbox.app.ledger.get("stripe", refund.idempotency_key)
    entry.status = "success"
    body, headers = sandbox.app.stripe.notification(entry, "success")()
    assert client.post("/payments/notify/stripe", data=body, headers=headers).status_code == 200
    _run_jobs(app)
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.status == "completed"
    assert processes.load_execution(instance, now=clock.now()).data["result"]["provider_refund_id"] == entry.refund_id


def test_a_refund_above_the_payment_takes_the_rejected_path(app, clock, paid, sandbox) -> None:
    instance_id = _start(app, clock, paid("wechat", amount="20.00"), amount="25.00")
    _run_jobs(app)
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.status == "completed"
    failed = db.session.execute(select(ProcessEvent.payload).where(
        ProcessEvent.instance_id == instance_id, ProcessEvent.event_type == "service.failed")).scalar_one()
    assert "refund_rejected" in failed and "exceeds what is left of payment" in failed
    assert db.session.execute(select(Refund).where(Refund.instance_id == instance_id)).first() is None


def test_a_missing_approver_is_rejected(app, clock, paid, sandbox) -> None:
    instance_id = _start(app, clock, paid("wechat"), approved_by="")
    _run_jobs(app)
    failed = db.session.execute(select(ProcessEvent.payload).where(
        ProcessEvent.instance_id == instance_id, ProcessEvent.event_type == "service.failed")).scalar_one()
    assert "approved_by is empty: the process must approve a refund before paying it" in failed


def test_a_lost_answer_is_settled_by_the_query_and_the_instance_completes(app, clock, paid, sandbox) -> None:
    instance_id = _start(app, clock, paid("wechat"))
    sandbox.app.faults.configure(queue=["lost"])
    _run_jobs(app)
    refund = db.session.execute(select(Refund).where(Refund.instance_id == instance_id)).scalar_one()
    assert refund.state == "unknown"
    sandbox.app.tick()
    clock.advance(seconds=6)
    _run_jobs(app)
    refund = db.session.execute(select(Refund).where(Refund.instance_id == instance_id)).scalar_one()
    assert refund.state == "succeeded" and refund.attempts == 1
    assert db.session.get(ProcessInstance, instance_id).status == "completed"


def test_a_refund_the_rules_grant_is_paid_although_system_both_asked_and_approved(app, clock, paid, sandbox) -> None:
    """The automatic path (auto_resolution.dmn, refund_approval_level.dmn) writes "system" as requester and approver."""
    instance_id = _start(app, clock, paid("alipay"), requested_by="system", approved_by="system")
    assert _run_jobs(app) == 2
    assert db.session.get(ProcessInstance, instance_id).status == "completed"
    refund = db.session.execute(select(Refund).where(Refund.instance_id == instance_id)).scalar_one()
    assert (refund.state, refund.requested_by, refund.approved_by) == ("succeeded", "system", "system")
