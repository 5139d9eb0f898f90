"""The workflow runtime of one app: spec cache, operators, sandbox, clock.

It is built once by `create_app` and reached through `get_runtime()`; services receive
what they need from it rather than importing globals.
"""
from __future__ import annotations

import atexit
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, current_app

from app.clock import Clock, SystemClock
from workflows.definitions import SpecCache
from workflows.engine import SandboxEnvironment
from workflows.persistence import LiveWorkflows
from workflows.sandbox import ExpressionEvaluator, ScriptRunner
from workflows.services import OperatorRegistry


@dataclass
class Chore:
    """A periodic background job (reconciliation, alerts) run by the scheduler."""

    name: str
    handler: Callable[[Any], None]
    every_seconds: int


@dataclass
class Runtime:
    specs: SpecCache
    operators: OperatorRegistry
    environment: SandboxEnvironment
    clock: Clock
    max_tasks: int
    conflict_retries: int
    chores: dict[str, Chore] = field(default_factory=dict)
    definition_hashes: dict[int, str] = field(default_factory=dict)  # versions are immutable
    # (newest version's id, version, hash) -> {process id: definition id}; see definitions.current_version_for
    current_versions: tuple[tuple[int, int, str], dict[str, int]] | None = None
    live: LiveWorkflows = field(default_factory=LiveWorkflows)  # see processes.run_on_instance

    def execution_options(self) -> dict[str, Any]:
        """Keyword arguments every `Execution` of this app is created with."""
        return {"operators": self.operators, "environment": self.environment,
                "max_tasks": self.max_tasks}

    def register_chore(self, name: str, handler: Callable[[Any], None], every_seconds: int) -> None:
        self.chores[name] = Chore(name, handler, every_seconds)


def init_runtime(app: Flask) -> Runtime:
    """Build the runtime, register every operator, and keep it on the app."""
    runner = ScriptRunner(timeout=app.config["SCRIPT_TIMEOUT_SECONDS"],
                          memory_mb=app.config["SCRIPT_MEMORY_MB"], workers=app.config["SCRIPT_WORKERS"],
                          in_process=app.config["SCRIPTS_IN_PROCESS"])
    atexit.register(runner.close)
    runtime = Runtime(
        specs=SpecCache(), operators=OperatorRegistry(),
        environment=SandboxEnvironment(ExpressionEvaluator(), runner),
        clock=app.config.get("CLOCK") or SystemClock(),
        max_tasks=app.config["MAX_TASKS_PER_INSTANCE"],
        conflict_retries=app.config["CONFLICT_RETRIES"],
        live=LiveWorkflows(app.config.get("LIVE_WORKFLOWS", 256)),
    )
    from app.services.operators import register_builtin_operators
    register_builtin_operators(runtime)
    for module_name in app.config.get("OPERATOR_MODULES", []):
        importlib.import_module(module_name).register_operators(runtime.operators)
    from app.database import WAL_CHECKPOINT_EVERY_SECONDS, checkpoint_wal
    from app.extensions import db
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # WAL checkpoints in the background, not in commits
            runtime.register_chore("sqlite.checkpoint", lambda _now: checkpoint_wal(db.engine),
                                   every_seconds=WAL_CHECKPOINT_EVERY_SECONDS)
    app.extensions["kesu.runtime"] = runtime
    return runtime


def get_runtime() -> Runtime:
    """Return the runtime of the current app."""
    return current_app.extensions["kesu.runtime"]
