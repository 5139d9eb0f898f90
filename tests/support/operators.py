"""Operators for the crash test, loaded into a worker process by KESU_OPERATOR_MODULES.

``slow_step`` writes a marker and sleeps the first time it runs, so that the test can kill
the worker in the middle of advancing the instance; later runs return at once.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workflows.services import OperatorRegistry, ServiceCall


def _marker_dir() -> Path:
    return Path(os.environ["KESU_TEST_MARKERS"])


def pay(call: ServiceCall) -> dict[str, Any]:
    """An asynchronous call to the outside world; every call is logged with its key."""
    with open(_marker_dir() / "pay.log", "a") as log:
        log.write(call.idempotency_key + "\n")
    return {"paid": call.params["amount"]}


def slow_step(call: ServiceCall) -> dict[str, Any]:
    marker = _marker_dir() / "slow_step.started"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(60)
    return {"checked": True}


def register_operators(registry: OperatorRegistry) -> None:
    registry.register("test_pay", pay, asynchronous=True)
    registry.register("slow_step", slow_step)
