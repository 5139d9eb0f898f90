"""Races and crashes with real commits, on each database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.errors import Conflict, KesuError
from app.extensions import db
from app.models import HumanTask, Job, ProcessEvent, ProcessInstance
from app.services import audit, definitions, processes
from app.services.uow import run_command
from tests.support import operators as crash_operators
from tests.support.deploy import deploy_engine_files
from tests.support.engine import read_files

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_eight_workers_completing_one_task_have_exactly_one_winner(committed_app) -> None:
    app = committed_app
    with app.app_context():
        now = app.extensions["kesu.runtime"].clock.now()
        run_command(lambda: deploy_engine_files(app, now))
        instance = run_command(lambda: processes.start_instance(
            "complaint_engine", {"text": "坏了", "emotion": "calm", "amount": 600, "order_id": "O-1"},
            actor="t", now=now))
        instance_id = instance.id
        task_id = db.session.execute(select(HumanTask.task_id)).scalar_one()
        db.session.remove()

    barrier, outcomes = threading.Barrier(8), []

    def agent(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                run_command(lambda: processes.complete_task(
                    task_id, {"outcome": "reply", "reply": f"agent {n}"}, actor=f"agent{n}", now=now))
                outcomes.append(("ok", n))
            except Conflict as error:
                outcomes.append(("conflict", error.message))
            except KesuError as error:  # pragma: no cover - shows up in the assertion below
                outcomes.append(("other", repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [o for o in outcomes if o[0] == "ok"]
    assert len(winners) == 1, outcomes
    assert len(outcomes) == 8
    assert all(kind == "conflict" and "already completed" in message for kind, message in outcomes
               if kind != "ok"), outcomes
    with app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance.status == "completed"
        submitted = db.session.execute(select(ProcessEvent.actor).where(
            ProcessEvent.instance_id == instance_id, ProcessEvent.event_type == "task.submitted")).scalars().all()
        assert submitted == [f"agent{winners[0][1]}"]
        assert audit.verify_chains(instance_id).intact


def _worker(app, markers: Path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": app.config["TEST_DATABASE"], "KESU_ENV": "production",
           "KESU_WORKER": "off", "KESU_OPERATOR_MODULES": "tests.support.operators",
           "KESU_TEST_MARKERS": str(markers), "KESU_JOB_LEASE_SECONDS": "2",
           "KESU_WORKER_POLL_SECONDS": "0.2", "KESU_INSTANCE_DIR": app.instance_path}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_advance_loses_nothing_and_runs_the_job_once(committed_app, tmp_path) -> None:
    app = committed_app
    markers = tmp_path / "markers"
    markers.mkdir()
    crash_operators.register_operators(app.extensions["kesu.runtime"].operators)
    with app.app_context():
        now = app.extensions["kesu.runtime"].clock.now()
        run_command(lambda: definitions.deploy(read_files("crash.bpmn"), actor="t", now=now))
        instance_id = run_command(lambda: processes.start_instance("crash", {"amount": 25.8}, actor="t",
                                                                   now=now)).id
        committed_state = db.session.get(ProcessInstance, instance_id).state
        db.session.remove()

    worker = _worker(app, markers)
    try:
        assert _wait_for((markers / "slow_step.started").exists, 30), "the worker never reached the slow step"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    with app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance.state == committed_state and instance.status == "waiting"
        job = db.session.execute(select(Job)).scalar_one()
        assert (job.status, job.attempts) == ("running", 1)
        db.session.remove()

    worker = _worker(app, markers)
    try:
        def finished() -> bool:
            with app.app_context():
                try:
                    return db.session.get(ProcessInstance, instance_id).status == "completed"
                finally:
                    db.session.remove()
        assert _wait_for(finished, 40), "the restarted worker did not finish the instance"
    finally:
        worker.terminate()
        worker.wait(10)
    with app.app_context():
        job = db.session.execute(select(Job)).scalar_one()
        assert (job.status, job.attempts) == ("done", 2)
        events = db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                    .order_by(ProcessEvent.seq)).scalars().all()
        assert [e.task_name for e in events if e.event_type == "service.called"] == ["pay_refund", "check"]
        assert audit.verify_chains(instance_id).intact
    keys = (markers / "pay.log").read_text().split()
    assert len(keys) == 2 and len(set(keys)) == 1  # called again after the crash, with the same key
