"""Retention: closed instances past RETENTION_DAYS lose their working state, keep their record."""
from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import InstanceStatus, ProcessEvent
from app.services import audit, audit_console
from app.services.audit_replay import replay_instance
from app.worker import run_chore
from tests.audit.test_console import _sign_in, _user
from tests.support.complaints import ProcessDriver
from tests.support.language import EN


@pytest.fixture
def driver(app, db_session, clock) -> Iterator[ProcessDriver]:  # type: ignore[no-untyped-def]
    processes = ProcessDriver(app, clock)
    app.config["RETENTION_DAYS"] = {"complaint_handling": 30}
    yield processes
    app.config["RETENTION_DAYS"] = {}
    processes.restore()


def _closed(driver: ProcessDriver, key: str) -> int:
    instance_id = driver.start(complaint_id=key)
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好"}, actor="xiaowang")
    driver.complete(instance_id, "confirm_resolution", {"satisfied": True, "csat": 5}, actor="cust-1")
    driver.run_jobs()
    return instance_id


def test_the_chore_purges_closed_instances_after_their_retention(app, driver: ProcessDriver, clock) -> None:
    closed = _closed(driver, "C-5")
    assert driver.instance(closed).status == InstanceStatus.COMPLETED.value
    running = driver.start(complaint_id="C-2")
    events_before = db.session.execute(select(ProcessEvent.id).where(ProcessEvent.instance_id == closed)).all()
    clock.advance(days=29, hours=23)
    run_chore(app, "audit.retention")
    assert driver.instance(closed).state
    clock.advance(hours=2)
    run_chore(app, "audit.retention")
    assert driver.instance(closed).state is None and driver.instance(running).state
    assert db.session.execute(select(ProcessEvent.id).where(ProcessEvent.instance_id == closed)).all() == events_before
    [event] = db.session.execute(select(ProcessEvent).where(ProcessEvent.event_type == "retention.purged")).scalars()
    assert event.stream == "system" and '"instances":[' + str(closed) + "]" in event.payload
    assert audit.verify_chains().intact and replay_instance(closed).identical
    assert audit_console.instance_record(closed, checks=False)["purged"] is True
    run_chore(app, "audit.retention")
    assert len(db.session.execute(select(ProcessEvent.id).where(
        ProcessEvent.event_type == "retention.purged")).all()) == 1


def test_processes_without_retention_are_kept_and_the_page_shows_purged(app, client, driver: ProcessDriver,
                                                                        clock, cli_runner) -> None:
    closed = _closed(driver, "C-3")
    app.config["RETENTION_DAYS"] = {"refund_approval": 1}
    clock.advance(days=400)
    assert "purged the working state of 0 instance(s)" in cli_runner.invoke(args=["audit", "purge"]).output
    app.config["RETENTION_DAYS"] = {"complaint_handling": 30}
    assert "purged the working state of 1 instance(s)" in cli_runner.invoke(args=["audit", "purge"]).output
    _user(clock, "shenji", ["auditor"])
    _sign_in(client, "shenji")
    assert '<strong id="purged">purged</strong>' in client.get(f"/audit/instances/{closed}", headers=EN).get_data(as_text=True)
    assert '<strong id="purged">已清除</strong>' in client.get(f"/audit/instances/{closed}").get_data(as_text=True)
