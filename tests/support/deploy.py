"""Deploy the engine test diagrams into a test database."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from app.models import ProcessDefinition
from app.services import definitions
from tests.support.engine import read_files

ENGINE_FILES = ("complaint_engine.bpmn", "priority.dmn", "handle.json")


def register_test_operators(app: Flask) -> None:
    """Operators the test diagrams call (registered once per app)."""
    operators = app.extensions["kesu.runtime"].operators
    operators.register("refund_now", lambda call: {"status": "paid", "amount": call.params["amount"],
                                                   "key": call.idempotency_key})


def deploy_engine_files(app: Flask, now: datetime, **changes: Any) -> ProcessDefinition:
    register_test_operators(app)
    files = read_files(*ENGINE_FILES)
    for path, text in changes.items():
        files[path] = text
    definition, _created = definitions.deploy(files, actor="tester", now=now)
    return definition
