"""`flask worker`, `flask scheduler` and `flask serve` (web + in-process worker)."""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from app.classification.errors import ClassificationError
from app.extensions import db
from app.services.classification import get_predictor
from app.worker import WorkerLoop, build_chore_scheduler, start_embedded_worker

SCHEDULER_LOCK_KEY = 7_411_2026  # the PostgreSQL advisory lock that elects one scheduler


@click.command("worker")
@click.option("--poll", default=None, type=float, help="Seconds between polls when idle.")
@with_appcontext
def worker_command(poll: float | None) -> None:
    """Run jobs until stopped (SIGTERM/SIGINT finish the current job first)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    loop = WorkerLoop(app, poll_seconds=poll or app.config["WORKER_POLL_SECONDS"], with_scheduler=False)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.stop())
    click.echo(f"worker {loop.worker_id} running")
    loop.run()


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Turn due timers into jobs and run chores; only one scheduler is active, others stand by.

    SIGTERM/SIGINT stop it cleanly (exit 0): the chores running at that moment finish first, and a
    standby scheduler stops waiting for the lock.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with _leadership(app, stop) as leading:
        if leading:
            click.echo("scheduler is active")
            scheduler = build_chore_scheduler(app, blocking=True)
            # Its loop runs in a thread so that this one only waits for a signal, then shuts it down
            # from outside any signal handler (APScheduler's shutdown takes the scheduler's locks).
            runner = threading.Thread(target=scheduler.start, name="kesu-scheduler", daemon=True)
            runner.start()
            while not scheduler.running and runner.is_alive():  # a signal this early still stops it cleanly
                time.sleep(0.01)
            while not stop.wait(1):
                if not runner.is_alive():
                    raise click.ClickException("the scheduler loop ended unexpectedly")
            scheduler.shutdown(wait=True)
            runner.join(10)
    click.echo("scheduler stopped")


@contextmanager
def _leadership(app: object, stop: threading.Event) -> Iterator[bool]:
    """Hold the scheduler lock for as long as this process runs (standby until it is free).

    Yields True once the lock is held, or False when ``stop`` is set while standing by.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        try:
            announced = False
            while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK_KEY}).scalar():
                if not announced:
                    click.echo("another scheduler is active; standing by")
                    announced = True
                connection.commit()
                if stop.wait(5):
                    yield False
                    return
            connection.commit()
            yield True
        finally:
            connection.close()
        return
    import fcntl
    lock_path = Path(current_app.instance_path) / "scheduler.lock"
    with open(lock_path, "w") as handle:
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    click.echo("another scheduler is active; standing by")
                    announced = True
                if stop.wait(1):
                    yield False
                    return
        yield True


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the web app with the worker and scheduler running in this process (embedded default)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        get_predictor()  # a missing or corrupt model is a clear error now, not a failure mid-request
    except ClassificationError as error:
        raise click.ClickException(f"{error} — run `flask --app wsgi ml train`") from error
    finally:
        db.session.remove()  # hold no transaction (and no SQLite write lock) while serving
    if app.config["WORKER_MODE"] == "thread":
        start_embedded_worker(app)
        click.echo("in-process worker and scheduler started")
    click.echo(f"Kesu is serving on http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)
