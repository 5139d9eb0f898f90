"""Instances persisted: projections, events, jobs, timers and versions, on each database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.errors import NotFound, TaskAlreadyCompleted, TaskClaimedByOther, ValidationFailed
from app.extensions import db
from app.models import HumanTask, Job, ProcessEvent, ProcessInstance, Timer
from app.services import audit, jobs, processes
from app.worker import run_one_job, schedule_tick
from tests.support.deploy import deploy_engine_files

DATA = {"text": "坏了", "emotion": "calm", "amount": 600, "order_id": "O-1"}


@pytest.fixture
def definition(app, db_session, clock):  # type: ignore[no-untyped-def]
    return deploy_engine_files(app, clock.now())


def _start(clock, **data):  # type: ignore[no-untyped-def]
    instance = processes.start_instance("complaint_engine", {**DATA, **data}, actor="tester", now=clock.now(),
                                        business_key="C-1")
    db.session.commit()
    return instance


def _open_task(instance):  # type: ignore[no-untyped-def]
    return db.session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.status == "open")).scalar_one()


def test_starting_an_instance_stores_state_projections_and_a_verified_chain(definition, clock) -> None:
    instance = _start(clock)
    assert (instance.status, instance.definition.version, instance.version) == ("waiting", definition.version, 2)
    task = _open_task(instance)
    assert (task.name, task.candidate_group, task.form_key) == ("handle", "tier1-billing", "handle")
    assert task.due_at == clock.now() + timedelta(hours=2)
    [timer] = db.session.execute(select(Timer).where(Timer.instance_id == instance.id)).scalars().all()
    assert (timer.task_name, timer.status, timer.due_at) == ("sla", "waiting", task.due_at)
    report = audit.verify_chains(instance.id)
    assert report.intact and report.checked == instance.event_seq > 5


def test_completing_a_task_records_who_and_moves_the_projections(definition, clock) -> None:
    instance = _start(clock)
    task = _open_task(instance)
    clock.advance(minutes=10)
    processes.complete_task(task.task_id, {"outcome": "reply", "reply": "已为您处理"}, actor="xiaowang",
                            now=clock.now())
    db.session.commit()
    db.session.refresh(task)
    assert (task.status, task.completed_by, task.completed_at) == ("completed", "xiaowang", clock.now())
    assert instance.status == "completed" and instance.completed_at == clock.now()
    assert db.session.execute(select(Timer.status).where(Timer.instance_id == instance.id)).scalar() == "cancelled"
    with pytest.raises(TaskAlreadyCompleted, match="already completed by xiaowang"):
        processes.complete_task(task.task_id, {"outcome": "reply", "reply": "再次"}, actor="xiaoli",
                                now=clock.now())


def test_invalid_form_data_is_refused_with_field_messages_and_nothing_written(definition, clock) -> None:
    instance = _start(clock)
    task = _open_task(instance)
    events_before = db.session.execute(select(func.count(ProcessEvent.id))).scalar()
    with pytest.raises(ValidationFailed) as caught:
        processes.complete_task(task.task_id, {"outcome": "refund"}, actor="xiaowang", now=clock.now())
    db.session.rollback()
    assert caught.value.fields == {"reply": "this field is required"}
    assert caught.value.to_problem()["errors"] == [{"field": "reply", "message": "this field is required"}]
    assert db.session.execute(select(func.count(ProcessEvent.id))).scalar() == events_before
    assert _open_task(instance).status == "open"


def test_due_timer_becomes_a_job_and_the_worker_fires_it(app, definition, clock) -> None:
    instance_id = _start(clock).id
    assert schedule_tick(app) == 0
    clock.advance(hours=2, seconds=1)
    assert schedule_tick(app) == 1
    assert schedule_tick(app) == 0  # queued once, not every tick
    assert run_one_job(app, "test-worker") is True
    assert run_one_job(app, "test-worker") is False
    instance = db.session.get(ProcessInstance, instance_id)
    assert [t.name for t in db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars()] == ["escalate"]
    types = db.session.execute(select(ProcessEvent.event_type).where(ProcessEvent.instance_id == instance.id)
                               .order_by(ProcessEvent.seq)).scalars().all()
    assert "timer.fired" in types and "task.cancelled" in types
    assert db.session.execute(select(Job.status)).scalar() == "done"


def test_asynchronous_operator_runs_as_a_job_with_its_idempotency_key(app, clock, db_session) -> None:
    calls = []

    def pay(call):  # type: ignore[no-untyped-def]
        calls.append(call.idempotency_key)
        return {"status": "submitted", "amount": call.params["amount"]}
    deploy_engine_files(app, clock.now())
    app.extensions["kesu.runtime"].operators.register("refund_now", pay, asynchronous=True)
    try:
        instance = _start(clock, amount=30, emotion="angry")
        assert instance.status == "waiting"
        [job] = db.session.execute(select(Job)).scalars().all()
        assert (job.kind, job.operator, job.status) == ("service", "refund_now", "queued")
        instance_id, task_id = instance.id, job.task_id
        assert run_one_job(app, "w1") is True
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance.status == "completed"
        assert calls == [f"svc:{instance_id}:{task_id}"]
    finally:
        deploy_engine_files(app, clock.now())  # restore the synchronous operator


def test_a_job_whose_lease_expired_is_taken_over(app, clock, db_session) -> None:
    jobs.enqueue("chore", "noop", {}, "k-1", now=clock.now())
    first = jobs.claim_next(worker_id="dead", now=clock.now(), lease_seconds=30)
    assert first is not None and first.attempts == 1
    assert jobs.claim_next(worker_id="other", now=clock.now(), lease_seconds=30) is None
    later = clock.now() + timedelta(seconds=31)
    second = jobs.claim_next(worker_id="other", now=later, lease_seconds=30)
    assert (second.id, second.attempts, second.locked_by) == (first.id, 2, "other")


def test_enqueue_is_idempotent_per_key(clock, db_session) -> None:
    for _ in range(3):
        jobs.enqueue("chore", "noop", {}, "same-key", now=clock.now())
    assert db.session.execute(select(func.count(Job.id))).scalar() == 1


def test_claiming_a_task_has_one_winner(definition, clock) -> None:
    task = _open_task(_start(clock))
    assert processes.claim_task(task.task_id, user="xiaowang", now=clock.now()).assignee == "xiaowang"
    with pytest.raises(TaskClaimedByOther, match="already claimed by xiaowang"):
        processes.claim_task(task.task_id, user="xiaoli", now=clock.now())


def test_deploy_creates_a_version_only_when_content_changes(app, definition, clock) -> None:
    assert deploy_engine_files(app, clock.now()).id == definition.id
    instance = _start(clock)
    changed = definition.file_map()["bpmn/complaint_engine.bpmn"].replace("Handle complaint", "Handle it")
    second = deploy_engine_files(app, clock.now(), **{"bpmn/complaint_engine.bpmn": changed})
    assert second.version == definition.version + 1
    newer = _start(clock)
    assert (instance.definition_id, newer.definition_id) == (definition.id, second.id)
    assert _open_task(instance).title == "Handle complaint" and _open_task(newer).title == "Handle it"
    deploys = db.session.execute(select(ProcessEvent).where(ProcessEvent.stream == "system")).scalars().all()
    assert [e.event_type for e in deploys][-1] == "definition.deployed"
    assert audit.verify_chains().intact


def test_message_without_a_waiting_instance_is_not_found(definition, clock) -> None:
    with pytest.raises(NotFound, match="no process instance is waiting for message 'refund_result'"):
        processes.deliver_message("refund_result", {"refund_id": "R-1"}, {}, actor="gateway", now=clock.now())


def test_the_database_refuses_to_update_or_delete_events(app, definition, clock) -> None:
    _start(clock)
    for statement in ("UPDATE process_event SET actor = 'mallory'", "DELETE FROM process_event"):
        with pytest.raises(Exception, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(text(statement))


def _disable_append_only(app) -> None:  # type: ignore[no-untyped-def]
    if app.config["TEST_BACKEND"] == "postgresql":
        db.session.execute(text("ALTER TABLE process_event DISABLE TRIGGER process_event_no_update"))
    else:
        db.session.execute(text("DROP TRIGGER process_event_no_update"))
        db.session.execute(text("DROP TRIGGER process_event_no_delete"))


@pytest.mark.parametrize("tampering", ["edit", "delete", "reorder"])
def test_audit_verify_finds_the_exact_tampered_event(app, cli_runner, definition, clock, tampering) -> None:
    instance = _start(clock)
    assert cli_runner.invoke(args=["audit", "verify", str(instance.id)]).exit_code == 0
    events = db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                                .order_by(ProcessEvent.seq)).scalars().all()
    victim = events[3]
    _disable_append_only(app)
    if tampering == "edit":
        db.session.execute(text("UPDATE process_event SET payload = :p WHERE id = :id"),
                           {"p": '{"state":"completed","forged":true}', "id": victim.id})
        expected = f"TAMPERED: content does not match its hash (the event was edited) at event id {victim.id}"
    elif tampering == "delete":
        db.session.execute(text("DELETE FROM process_event WHERE id = :id"), {"id": victim.id})
        expected = "TAMPERED: sequence gap: expected seq 4, found 5"
    else:
        db.session.execute(text("UPDATE process_event SET seq = -1 WHERE id = :id"), {"id": events[4].id})
        db.session.execute(text("UPDATE process_event SET seq = 5 WHERE id = :id"), {"id": victim.id})
        db.session.execute(text("UPDATE process_event SET seq = 4 WHERE id = :id"), {"id": events[4].id})
        expected = "TAMPERED: prev_hash does not match the previous event"
    db.session.expire_all()
    result = cli_runner.invoke(args=["audit", "verify", str(instance.id)])
    assert result.exit_code == 1
    assert result.output.startswith(expected), result.output


def _async_instance(app, clock, calls):  # type: ignore[no-untyped-def]
    deploy_engine_files(app, clock.now())
    app.extensions["kesu.runtime"].operators.register(
        "refund_now", lambda call: calls.append(call.idempotency_key) or {"status": "paid"}, asynchronous=True)
    return _start(clock, amount=30, emotion="angry").id


def test_a_suspended_instance_keeps_its_job_waiting_without_calling_out(app, clock, db_session) -> None:
    from app.services.instance_admin import resume_instance, suspend_instance
    calls: list[str] = []
    try:
        instance_id = _async_instance(app, clock, calls)
        suspend_instance(instance_id, reason="customer on hold", actor="zhuguan", now=clock.now())
        db.session.commit()
        assert run_one_job(app, "w") is True
        job = db.session.execute(select(Job)).scalar_one()
        assert (job.status, job.attempts, calls) == ("queued", 0, [])
        assert job.run_at == clock.now() + timedelta(seconds=60)
        resume_instance(instance_id, reason="go on", actor="zhuguan", now=clock.now())
        db.session.commit()
        clock.advance(seconds=61)
        assert run_one_job(app, "w") is True
        assert db.session.get(ProcessInstance, instance_id).status == "completed" and len(calls) == 1
    finally:
        deploy_engine_files(app, clock.now())


def test_a_job_claimed_before_its_instance_was_cancelled_is_dropped(app, clock, db_session) -> None:
    from app.services.instance_admin import cancel_instance
    calls: list[str] = []
    try:
        instance_id = _async_instance(app, clock, calls)
        claimed = jobs.claim_next(worker_id="dying", now=clock.now(), lease_seconds=30)
        db.session.commit()
        cancel_instance(instance_id, reason="duplicate complaint", actor="zhuguan", now=clock.now())
        db.session.commit()
        clock.advance(seconds=31)
        assert run_one_job(app, "w") is True
        job = db.session.get(Job, claimed.id)
        assert (job.status, job.last_error, calls) == ("cancelled", f"instance {instance_id} was cancelled", [])
    finally:
        deploy_engine_files(app, clock.now())
