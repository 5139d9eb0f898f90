"""Workflows kept in memory between commands: reused only while the stored snapshot is the one they were saved as."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance
from app.services import audit, definitions, processes
from tests.support.engine import xml_process
from workflows.persistence import LiveWorkflows

TWO_TASKS = xml_process("""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="first" />
  <bpmn:userTask id="first"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
  <bpmn:userTask id="second"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="e" />
  <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>""", process_id="two_steps")


@pytest.fixture
def live(app, db_session, clock) -> Iterator[LiveWorkflows]:  # type: ignore[no-untyped-def]
    definitions.deploy({"bpmn/two_steps.bpmn": TWO_TASKS}, actor="tester", now=clock.now())
    runtime = app.extensions["kesu.runtime"]
    runtime.live.clear()
    yield runtime.live
    runtime.live.clear()


def _open_task(instance: ProcessInstance) -> HumanTask:
    return db.session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.status == "open")).scalar_one()


def _no_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the snapshot was parsed again")
    monkeypatch.setattr(processes, "load_execution", refuse)


def _run(clock, live: LiveWorkflows | None, app, monkeypatch) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    runtime = app.extensions["kesu.runtime"]
    if live is None:
        monkeypatch.setattr(runtime, "live", LiveWorkflows(0))
    instance = processes.start_instance("two_steps", {"order": {"id": 7}}, actor="t", now=clock.now())
    db.session.commit()
    for step in ("first", "second"):
        task = _open_task(instance)
        assert task.name == step
        processes.complete_task(task.task_id, {step: True}, actor="agent", now=clock.now())
        db.session.commit()
    assert instance.status == "completed" and audit.verify_chains(instance.id).intact
    data = processes.load_execution(instance, now=clock.now()).data if instance.state else {}
    monkeypatch.undo()
    return [(e.event_type, e.task_name) for e in audit_events(instance)] + [("data", repr(sorted(data.items())))]


def audit_events(instance: ProcessInstance) -> list[Any]:
    from app.models import ProcessEvent
    return db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                              .order_by(ProcessEvent.seq)).scalars().all()


def test_the_next_command_takes_the_saved_workflow_and_ends_as_a_reload_would(live, clock, app, monkeypatch) -> None:
    reloaded = _run(clock, None, app, monkeypatch)
    instance = processes.start_instance("two_steps", {"order": {"id": 7}}, actor="t", now=clock.now())
    db.session.commit()
    _no_reload(monkeypatch)  # from here on the kept workflow must be used
    for step in ("first", "second"):
        processes.complete_task(_open_task(instance).task_id, {step: True}, actor="agent", now=clock.now())
        db.session.commit()
    monkeypatch.undo()
    kept = [(e.event_type, e.task_name) for e in audit_events(instance)]
    data = processes.load_execution(instance, now=clock.now()).data
    assert kept + [("data", repr(sorted(data.items())))] == reloaded
    assert audit.verify_chains(instance.id).intact


def test_a_rolled_back_command_leaves_nothing_stale_behind(live, clock, monkeypatch) -> None:
    instance = processes.start_instance("two_steps", {}, actor="t", now=clock.now())
    db.session.commit()
    first = _open_task(instance)
    processes.complete_task(first.task_id, {}, actor="agent", now=clock.now())
    db.session.rollback()  # e.g. a later step of the same request failed
    db.session.refresh(instance)
    assert _open_task(instance).task_id == first.task_id
    processes.complete_task(first.task_id, {"again": 1}, actor="agent", now=clock.now())
    db.session.commit()
    assert _open_task(instance).name == "second"


def test_a_snapshot_saved_elsewhere_is_parsed_not_the_kept_workflow(live, clock, app) -> None:
    instance = processes.start_instance("two_steps", {}, actor="t", now=clock.now())
    db.session.commit()
    pin = (instance.definition_id, instance.process_id)
    stale = live.take(instance.id, pin, instance.state)
    assert stale is not None, "the start kept its workflow"
    stale_snapshot = instance.state
    # another process (its own memory) completes the first task
    processes.complete_task(_open_task(instance).task_id, {}, actor="other", now=clock.now())
    db.session.commit()
    live.keep(instance.id, pin, stale_snapshot, *stale)  # this process still holds the older workflow
    processes.complete_task(_open_task(instance).task_id, {}, actor="agent", now=clock.now())
    db.session.commit()
    assert instance.status == "completed"


def test_entries_are_bounded_and_taken_once() -> None:
    cache = LiveWorkflows(capacity=2)
    for instance_id in (1, 2, 3):
        cache.keep(instance_id, ("v", "p"), f"s{instance_id}", object(), None)  # type: ignore[arg-type]
    assert cache.take(1, ("v", "p"), "s1") is None  # evicted
    assert cache.take(3, ("v", "p"), "s3") is not None
    assert cache.take(3, ("v", "p"), "s3") is None  # taken: a second command parses the snapshot
    assert cache.take(2, ("other version", "p"), "s2") is None
    disabled = LiveWorkflows(capacity=0)
    disabled.keep(1, ("v", "p"), "s", object(), None)  # type: ignore[arg-type]
    assert disabled.take(1, ("v", "p"), "s") is None
