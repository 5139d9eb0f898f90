"""Studio costs an analyst waits for: a test run, a diff, and checking instances for migration.

Test run: the seed complaint process (bpmn/, rules/) run in memory with chosen outcomes for its
service tasks and schema-default form data, through the same sandbox the app uses. Diff: the seed
files against a copy with one condition changed. Migration check: N instances of a small process
waiting in a user task, each checked against a new version (a migration tried on a copy). No
database; the last line is JSON.

    .venv/bin/python bench/studio.py [N]
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from workflows.definitions import build_bundle
from workflows.engine import CommandContext, Execution, SandboxEnvironment
from workflows.migration import check
from workflows.model_diff import diff_files
from workflows.sandbox import ExpressionEvaluator, ScriptRunner
from workflows.services import OperatorRegistry
from workflows.trial import TrialInput, run_trial, service_task_ids

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def _files() -> dict[str, str]:
    files = {}
    for folder in ("bpmn", "rules"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".bpmn", ".dmn", ".json"):
                files[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


def _timed(runs: int, action: Callable[[], object]) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2)}


def main(n: int) -> dict[str, object]:
    environment = SandboxEnvironment(ExpressionEvaluator(), ScriptRunner(workers=1))
    files = _files()
    bundle = build_bundle(files)
    answer = {"category": "product.quality", "emotion": "angry", "confidence": 0.95, "needs_triage": False,
              "sampled": False, "notification_id": 1, "refund_id": 1, "status": "succeeded"}
    outcomes = {element: {"result": answer} for element in service_task_ids(bundle)}
    start = {"complaint_id": 1, "order_ref": "O-1", "payment_id": 1, "amount_paid": 36.5, "already_refunded": 0,
             "currency": "CNY", "chosen_category": "product.quality", "text": "收到的苹果全是烂的", "images": 1,
             "customer_id": 7, "customer_tier": "normal", "recent_complaints": 0, "recent_auto_refunds": 0}
    given = TrialInput("complaint_handling", start, outcomes)
    first_run = run_trial(bundle, files, given, now=NOW, environment=environment)
    steps = len(first_run.steps)
    trial = _timed(n, lambda: run_trial(bundle, files, given, now=NOW, environment=environment))
    changed = {**files}
    first = next(p for p in changed if p.endswith("complaint_handling.bpmn"))
    changed[first] = changed[first].replace('name="', 'name="v2 ', 1)
    diff = _timed(n, lambda: diff_files(files, changed))

    leave = ROOT / "tests" / "data" / "studio"
    old_files = {"bpmn/leave_request.bpmn": (leave / "leave_request.bpmn").read_text(encoding="utf-8"),
                 "bpmn/forms/leave.json": (leave / "leave.json").read_text(encoding="utf-8")}
    new_files = {**old_files, "bpmn/leave_request.bpmn": old_files["bpmn/leave_request.bpmn"].replace(
        'name="Review"', 'name="Review (v2)"')}
    old, new = build_bundle(old_files), build_bundle(new_files)
    snapshots = [Execution.start(old, "leave_request", {"days": i}, CommandContext(now=NOW),
                                 operators=OperatorRegistry(), environment=environment).dump() for i in range(n)]
    started = time.perf_counter()
    movable = sum(check(s, old, new, "leave_request").can_migrate for s in snapshots)
    per_instance = (time.perf_counter() - started) * 1000 / n
    environment.script_runner.close()
    return {"runs": n, "test_run_steps": steps, "test_run_status": first_run.status, "waiting": first_run.waiting,
            "problems": [p.message for p in first_run.problems], "test_run": trial, "diff_seed_files": diff,
            "migration_check_ms_per_instance": round(per_instance, 2), "movable": movable}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)))
