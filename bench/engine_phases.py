"""Where Kesu's time per instance goes: bench/engine.py's Kesu run with phase timers.

Wraps the steps of a command (definition lookup, engine run, snapshot dump and load,
projections, event chaining, statements, commit) with wall-clock accumulators and prints
microseconds per instance for each (nested phases are included in their parents). With
``--profile`` it prints a cProfile of the same run instead. Last line is JSON.

    .venv/bin/python bench/engine_phases.py [N] [--profile]
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import cProfile
import functools
import importlib.util
import json
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_engine", HERE / "engine.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

TOTALS: dict[str, float] = defaultdict(float)


def _timed(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)
    is_class_method = isinstance(owner.__dict__.get(name), classmethod)
    function = original.__func__ if is_class_method else original

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TOTALS[label] += time.perf_counter() - started
    setattr(owner, name, classmethod(wrapper) if is_class_method else wrapper)


def instrument() -> None:
    from sqlalchemy.orm import Session

    from app.services import audit, definitions, prepared, processes, projections, uow
    from workflows import engine, persistence, sandbox
    targets: list[tuple[Any, str, str]] = [
        (uow, "run_command", "command (all)"),
        (definitions, "current_version_for", "current version lookup"),
        (engine.Execution, "start", "engine: Execution.start"),
        (engine.Execution, "load", "engine: Execution.load (snapshot)"),
        (engine.Execution, "complete_task", "engine: complete_task"),
        (engine.Execution, "_flush_changes", "engine: task-state events"),
        (engine.Execution, "dump", "snapshot dump"),
        (persistence, "load_workflow", "snapshot load"),
        (sandbox.ScriptRunner, "run", "sandbox: scripts (in process or worker)"),
        (sandbox.ExpressionEvaluator, "evaluate", "sandbox: expressions"),
        (projections.Projection, "of", "projection of"),
        (projections, "apply_changes", "projections: write"),
        (audit, "chain_events", "events: chain (redact+hash)"),
        (audit, "insert_events", "events: insert"),
        (processes, "_write_instance", "instance: flush+update"),
        (Session, "execute", "sql: Session.execute"),
        (prepared, "execute", "sql: prepared writes"),
        (Session, "commit", "sql: commit"),
    ]
    for owner, name, label in targets:
        _timed(owner, name, label)
    processes.audit, processes.definitions = audit, definitions  # the module attributes were rebound


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 300
    if "--profile" in sys.argv:
        profile = cProfile.Profile()
        bench.run_kesu(n, on_measured=profile.enable)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)
        return
    instrument()
    cpu: list[float] = []
    rate, detail = bench.run_kesu(n, on_measured=lambda: (TOTALS.clear(), cpu.append(time.process_time())))
    cpu_us = round((time.process_time() - cpu[0]) / n * 1e6)  # this process only: steadier on a busy machine
    per = {label: round(total / n * 1e6) for label, total in sorted(TOTALS.items(), key=lambda kv: -kv[1])}
    for label, micros in per.items():
        print(f"{micros:>7} µs  {label}")
    print(f"{1e6 / rate:>7.0f} µs  per instance overall ({detail}); {cpu_us} µs CPU time of this process")
    print(json.dumps({"kesu_per_s": round(rate, 1), "cpu_us_per_instance": cpu_us, "us_per_instance": per, "n": n},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
