"""What the database benches share: a migrated app on a scratch or given database, and timing.

Imported as ``bench._common`` after ``import _paths`` (which takes bench/ off sys.path).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any, Callable

from flask import Flask
from flask_migrate import upgrade

from app import create_app
from app.clock import FrozenClock
from config import TestingConfig


def bench_app(name: str, *, scratch: str | None = None) -> tuple[Flask, FrozenClock]:
    """Return an app on DATABASE_URL, or on a SQLite file ``name``.db in ``scratch``, migrated to heads."""
    scratch = scratch or tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch}/{name}.db"
    clock = FrozenClock()
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, CLOCK=clock, INSTANCE_DIR=scratch)
    with app.app_context():
        upgrade(revision="heads")
    return app, clock


def timed(run: Callable[[], Any], runs: int) -> dict[str, float]:
    """Return p50 and p95 (nearest rank) in milliseconds of ``runs`` calls after one warm-up call."""
    run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[max(0, -(-95 * runs // 100) - 1)]
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2)}
