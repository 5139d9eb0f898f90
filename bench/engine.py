"""Engine overhead: the same complaint process run bare by SpiffWorkflow and through Kesu.

Bare: parsed once, run in memory with SpiffWorkflow's default script engine.
Kesu: started and its user task completed through the app's services, each a committed
unit of work with the snapshot, events, projections and the sandbox, on SQLite (or the
database in DATABASE_URL). Both run in this process, each after the same warm-up
(WARM_UP instances: parsed specs, statement caches, the started script workers), and they
alternate in chunks of CHUNK instances so that a busy machine slows both alike; the last
line is JSON.

On SQLite the app's durable default (synchronous=FULL: the WAL is synced at every commit) is
measured; KESU_SQLITE_SYNCHRONOUS=NORMAL measures the faster level that may lose the last
commits on a power loss.

    .venv/bin/python bench/engine.py [N]
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

MODELS = ROOT / "bench" / "models"
START = {"text": "收到的苹果全是烂的", "emotion": "angry", "amount": 36.5}
FORM = {"outcome": "reply", "reply": "已为您退款"}
WARM_UP = 50  # instances run before timing, in both runs
CHUNK = 25  # bare and Kesu alternate in chunks of this many instances


class BareEnvironment(TaskDataEnvironment):
    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):  # noqa: ANN001
        return json.dumps({"category": "product.quality", "confidence": 0.9})


class BareRun:
    """The process parsed once, run in memory by SpiffWorkflow alone; time and count add up."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_files([str(MODELS / "complaint_bench.bpmn")])
        parser.add_dmn_files([str(MODELS / "priority.dmn")])
        self.spec, self.subs = parser.get_spec("complaint_bench"), parser.get_subprocess_specs("complaint_bench")
        self.engine = PythonScriptEngine(environment=BareEnvironment())
        self.seconds, self.count = 0.0, 0

    def run(self, n: int) -> None:
        started = time.perf_counter()
        for _ in range(n):
            wf = BpmnWorkflow(self.spec, self.subs, script_engine=self.engine)
            wf.get_next_task(state=TaskState.READY).data.update(START)
            wf.do_engine_steps()
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update(FORM)
            task.run()
            wf.do_engine_steps()
            assert wf.is_completed()
        self.seconds += time.perf_counter() - started
        self.count += n


def run_bare(n: int) -> float:
    """Instances per second of n bare runs."""
    bare = BareRun()
    bare.run(n)
    return n / bare.seconds


def run_kesu(n: int, on_measured: Callable[[], None] | None = None,
             between: Callable[[], None] | None = None) -> tuple[float, str]:
    """Instances per second of n Kesu runs (and a detail line); ``between`` runs untimed every CHUNK."""
    from app import create_app
    from app.clock import FrozenClock
    from app.extensions import db
    from app.services import definitions, processes
    from app.services.uow import run_command
    from config import DevelopmentConfig
    from flask_migrate import upgrade
    from sqlalchemy import bindparam, select
    from app.models import HumanTask

    tmp = tempfile.mkdtemp(prefix="kesu-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=tmp, CLOCK=FrozenClock(),
                     WORKER_MODE="off")
    app.extensions["kesu.runtime"].operators.register(
        "bench_classify", lambda call: {"category": "product.quality", "confidence": 0.9})
    with app.app_context():
        upgrade(revision="heads")
        clock = app.extensions["kesu.runtime"].clock
        files = {"bpmn/complaint_bench.bpmn": (MODELS / "complaint_bench.bpmn").read_text(),
                 "rules/priority.dmn": (MODELS / "priority.dmn").read_text()}
        run_command(lambda: definitions.deploy(files, actor="bench", now=clock.now()))
        # The task list's row, as the task page reads it before completing (complete_task takes it).
        task_of = select(HumanTask.task_id, HumanTask.instance_id, HumanTask.status, HumanTask.completed_by).where(
            HumanTask.instance_id == bindparam("instance_id"))
        timings: list[float] = []
        for round_ in ("warm-up", "measured"):  # like the bare run: caches and the script workers warm first
            if round_ == "measured":
                if on_measured is not None:  # bench/engine_phases.py resets its timers here
                    on_measured()
                timings = []
            for i in range(WARM_UP if round_ == "warm-up" else n):
                if between is not None and round_ == "measured" and i % CHUNK == 0:
                    between()
                t0 = time.perf_counter()
                instance = run_command(lambda: processes.start_instance(
                    "complaint_bench", dict(START), actor="bench", now=clock.now()))
                task = db.session.execute(task_of, {"instance_id": instance.id}).one()
                done = run_command(lambda: processes.complete_task(task.task_id, dict(FORM), actor="agent",
                                                                   now=clock.now(), task=task))
                assert done.status == "completed"
                db.session.remove()
                timings.append(time.perf_counter() - t0)
        rate = n / sum(timings)
        where = url.split(":")[0]
        if where == "sqlite":  # the durability level decides what a commit costs: say which one ran
            where += f" (synchronous={app.config['SQLITE_SYNCHRONOUS']})"
    return rate, f"{statistics.median(timings) * 1000:.2f} ms median per instance on {where}"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    bare_run = BareRun()
    bare_run.run(WARM_UP)
    bare_run.seconds, bare_run.count = 0.0, 0
    # Interleaved in chunks, so that both sides see the same load on a shared machine.
    kesu, detail = run_kesu(n, between=lambda: bare_run.run(min(CHUNK, n - bare_run.count)))
    bare = bare_run.count / bare_run.seconds
    print(f"bare SpiffWorkflow: {bare:,.0f} instances/s; Kesu (persisted, events, sandbox): {kesu:,.0f} "
          f"instances/s; {detail}")
    print(json.dumps({"bare_per_s": round(bare, 1), "kesu_per_s": round(kesu, 1), "ratio": round(bare / kesu, 2),
                      "n": n}))


if __name__ == "__main__":
    main()
