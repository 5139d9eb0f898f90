"""Migration check on the real complaint process, whose service tasks are Kesu's own class."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from app.extensions import db
from app.models import ProcessInstance
from app.services import definitions, studio_migration
from tests.support.complaints import ProcessDriver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def driver(app, db_session, clock) -> Iterator[ProcessDriver]:  # type: ignore[no-untyped-def]
    processes = ProcessDriver(app, clock)
    yield processes
    processes.restore()


def _deploy_changed(clock, old: str, new: str) -> int:  # type: ignore[no-untyped-def]
    files = definitions.read_seed_files(str(ROOT / "bpmn"), str(ROOT / "rules"))
    text = files["bpmn/complaint_handling.bpmn"]
    assert text.count(old) == 1
    definition, created = definitions.deploy({**files, "bpmn/complaint_handling.bpmn": text.replace(old, new)},
                                             actor="analyst", now=clock.now())
    assert created
    db.session.commit()
    return definition.version


def test_instances_of_the_complaint_process_are_checked_and_moved(app, client, driver: ProcessDriver, clock) -> None:
    instance_id = driver.start()
    assert [t.name for t in driver.open_tasks(instance_id)] == ["handle"]
    # the service task that notifies the customer says a little more in the new version
    version = _deploy_changed(clock, 'name="Notify the customer"', 'name="Notify the customer (v2)"')
    [listed] = studio_migration.candidates(version)
    assert (listed["id"], listed["can_migrate"]) == (instance_id, True), listed["reasons"]
    [result] = studio_migration.migrate_instances(version, {instance_id: listed["row_version"]},
                                                  actor="analyst", now=clock.now())
    db.session.commit()
    assert result["migrated"] is True
    assert db.session.get(ProcessInstance, instance_id).definition.version == version
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好"}, actor="xiaowang")
    assert [t.name for t in driver.open_tasks(instance_id)] == ["confirm_resolution"]
