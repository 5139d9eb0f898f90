"""Replay says "identical" for every path of the process tests, and finds a changed diagram or answer.

The scenarios are the path tests themselves (tests/workflows/test_complaint_paths.py and
test_refund_paths.py): each one that needs only the ``driver`` fixture is run again here,
then every instance it created is replayed from its log.
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance
from app.runtime import get_runtime
from app.services import definitions
from app.services.audit_replay import recorded_events, replay_instance
from tests.support.complaints import ProcessDriver
from tests.workflows import test_complaint_paths, test_refund_paths
from workflows.definitions import build_bundle
from workflows.replay import replay


def _scenarios() -> list[Any]:
    found = []
    for module in (test_complaint_paths, test_refund_paths):
        for name, function in vars(module).items():
            if name.startswith("test_") and list(inspect.signature(function).parameters) == ["driver"]:
                found.append(pytest.param(function, id=f"{module.__name__.rsplit('_', 2)[-2]}:{name[5:]}"))
    return found


def _instances() -> list[int]:
    return list(db.session.execute(select(ProcessInstance.id).order_by(ProcessInstance.id)).scalars())


@pytest.mark.parametrize("scenario", _scenarios())
def test_every_path_replays_identically(driver: ProcessDriver, scenario: Callable[[ProcessDriver], None]) -> None:
    try:
        scenario(driver)
    except pytest.fail.Exception:
        raise
    ids = _instances()
    assert ids, "the scenario started no instance"
    for instance_id in ids:
        report = replay_instance(instance_id)
        assert report.identical, f"instance {instance_id}: {report.describe()}"
        assert report.describe().startswith("identical: ")


def _replay_with(instance_id: int, *, files: dict[str, str] | None = None,
                 events: list[Any] | None = None) -> Any:
    instance = db.session.get(ProcessInstance, instance_id)
    bundle = definitions.bundle_for_id(instance.definition_id)
    if files is not None:
        bundle = build_bundle(files)
    runtime = get_runtime()
    return replay(bundle, instance.process_id, events or recorded_events(instance_id), instance_id=instance_id,
                  stored_state=instance.state, environment=runtime.environment, max_tasks=runtime.max_tasks)


def test_a_changed_recorded_answer_is_found_at_its_step(driver: ProcessDriver) -> None:
    instance_id = driver.start()  # classify answers product.quality; handle is open
    events = recorded_events(instance_id)
    called = next(e for e in events if e.event_type == "service.called" and e.task_name == "classify_complaint")
    result = {**called.payload["result"], "category": "delivery.late"}
    changed = [dataclasses.replace(e, payload={**e.payload, "result": result}) if e is called else e
               for e in events]
    report = _replay_with(instance_id, events=changed)
    assert not report.identical
    assert report.seq is not None and report.seq > called.seq
    assert report.describe().startswith(f"DIFFERENT at step {report.seq}: ")


def test_a_changed_diagram_is_reported_as_another_version(driver: ProcessDriver) -> None:
    instance_id = driver.start()
    instance = db.session.get(ProcessInstance, instance_id)
    files = dict(instance.definition.file_map())
    path = next(p for p in files if p.endswith("complaint_handling.bpmn"))
    files[path] = files[path].replace("</bpmn:definitions>", "<!-- edited --></bpmn:definitions>")
    report = _replay_with(instance_id, files=files)
    assert not report.identical and report.seq == 1
    assert "was started on version" in report.difference


def test_a_changed_rule_under_the_same_hash_takes_another_path(driver: ProcessDriver) -> None:
    instance_id = driver.start(chosen_category="delivery.late")  # auto-resolved with a coupon
    instance = db.session.get(ProcessInstance, instance_id)
    files = dict(instance.definition.file_map())
    path = next(p for p in files if "auto" in p and p.endswith(".dmn"))
    files[path] = files[path].replace("delivery.late", "delivery.never")
    bundle = build_bundle(files)
    bundle.content_hash = instance.definition.content_hash  # pretend the pinned version was altered
    runtime = get_runtime()
    report = replay(bundle, instance.process_id, recorded_events(instance_id), instance_id=instance_id,
                    stored_state=instance.state, environment=runtime.environment, max_tasks=runtime.max_tasks)
    assert not report.identical and report.seq is not None
    assert "decide_auto_resolution" in report.difference
