"""Run jobs and due timers: in a thread of the web process (embedded default), or as the
`flask worker` and `flask scheduler` processes in production.

A job's effect on its instance and the job's ``done`` mark commit in one transaction,
so a worker killed at any point leaves either nothing or everything; the job's lease
then expires and another worker runs it again. Calls to the outside world (async
operators) happen before that transaction and carry an idempotency key, so running
them twice moves nothing twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import Flask

from app.extensions import db
from app.models import InstanceStatus, Job, JobStatus, ProcessInstance
from app.runtime import get_runtime
from app.services import jobs, processes
from app.services.uow import run_command
from workflows.services import ServiceCall, ServiceError

log = logging.getLogger("kesu.worker")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_one_job(app: Flask, worker_id: str) -> bool:
    """Claim and run one job; return False when there was nothing to do."""
    with app.app_context():
        runtime = get_runtime()
        now = runtime.clock.now()
        job = run_command(lambda: jobs.claim_next(worker_id=worker_id, now=now,
                                                  lease_seconds=app.config["JOB_LEASE_SECONDS"]))
        if job is None:
            db.session.remove()
            return False
        try:
            if not run_command(lambda: _instance_allows(job.id, now)):
                return True
            HANDLERS[job.kind](job)
        except Exception as error:  # recorded on the job; the loop must go on
            log.exception("job %s (%s) failed", job.id, job.operator)
            db.session.rollback()
            _record_failure(job.id, error)
        finally:
            db.session.remove()
        return True


SUSPENDED_RECHECK_SECONDS = 60


def _instance_allows(job_id: int, now: datetime) -> bool:
    """Cancel the job of a cancelled instance; put a suspended instance's job back for later."""
    job = db.session.get(Job, job_id)
    instance = db.session.get(ProcessInstance, job.instance_id) if job.instance_id else None
    if instance is None or instance.status not in (InstanceStatus.CANCELLED.value, InstanceStatus.SUSPENDED.value):
        return True
    if instance.status == InstanceStatus.CANCELLED.value:
        job.status, job.finished_at, job.lease_until = JobStatus.CANCELLED.value, now, None
        job.last_error = f"instance {instance.id} was cancelled"
    else:  # suspended: not an attempt, just not yet
        job.status, job.lease_until, job.attempts = JobStatus.QUEUED.value, None, job.attempts - 1
        job.run_at = now + timedelta(seconds=SUSPENDED_RECHECK_SECONDS)
    return False


def _run_timer_job(job: Job) -> None:
    def command() -> None:
        now = get_runtime().clock.now()
        current = db.session.get(Job, job.id)
        processes.fire_due_timers(current.instance_id, now=now)
        jobs.finish(current, now=now)
    run_command(command, retries=get_runtime().conflict_retries)


def _run_service_job(job: Job) -> None:
    runtime = get_runtime()
    operator = runtime.operators.get(job.operator)
    call = ServiceCall(job.operator, dict(job.params.get("params", {})), job.instance_id, job.task_id,
                       job.idempotency_key, runtime.clock.now())
    db.session.commit()  # hold no transaction while the outside world answers
    try:
        result, error = operator.handler(call), None
        if not isinstance(result, dict):
            raise ServiceError(f"operator '{job.operator}' returned {type(result).__name__}, not a dict")
    except ServiceError as failure:
        result, error = None, failure
    except Exception as failure:  # a handler bug: retried, then settled as a failure
        result, error = None, ServiceError(f"{type(failure).__name__}: {failure}", retryable=True)

    def command() -> None:
        now = runtime.clock.now()
        current = db.session.get(Job, job.id)
        if error is not None and error.retryable and jobs.fail(current, now=now, error=error.message,
                                                              retryable=True):
            return
        processes.settle_service_call(current.instance_id, current.task_id, result=result, error=error,
                                      now=now)
        jobs.finish(current, now=now, result=result)
    run_command(command, retries=runtime.conflict_retries)


def _record_failure(job_id: int, error: Exception) -> None:
    def command() -> None:
        current = db.session.get(Job, job_id)
        jobs.fail(current, now=get_runtime().clock.now(), error=f"{type(error).__name__}: {error}",
                  retryable=True)
    run_command(command)


HANDLERS: dict[str, Callable[[Job], None]] = {"timer": _run_timer_job, "service": _run_service_job}


def register_job_kind(kind: str, handler: Callable[[Job], None]) -> None:
    """Let another package (payments, alerts) run its own kind of job."""
    HANDLERS[kind] = handler


def schedule_tick(app: Flask) -> int:
    """Queue jobs for due timers; return how many."""
    with app.app_context():
        try:
            now = get_runtime().clock.now()
            return run_command(lambda: jobs.schedule_due_timers(now=now))
        finally:
            db.session.remove()


def run_chore(app: Flask, name: str) -> None:
    """Run one periodic chore in its own unit of work."""
    with app.app_context():
        chore = get_runtime().chores[name]
        try:
            run_command(lambda: chore.handler(get_runtime().clock.now()))
        except Exception:
            log.exception("chore %s failed", name)
        finally:
            db.session.remove()


class WorkerLoop:
    """Poll for jobs until stopped; sleep only when there is nothing to do."""

    def __init__(self, app: Flask, *, poll_seconds: float, with_scheduler: bool) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self.with_scheduler = with_scheduler
        self.stop_event = threading.Event()
        self.worker_id = worker_name()

    def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        while not self.stop_event.is_set():
            try:
                if self.with_scheduler:
                    schedule_tick(self.app)
                busy = True
                while busy and not self.stop_event.is_set():
                    busy = run_one_job(self.app, self.worker_id)
            except Exception:  # the database was away or locked: log, wait, try again
                log.exception("worker %s: polling failed; retrying", self.worker_id)
            self.stop_event.wait(self.poll_seconds)

    def stop(self) -> None:
        self.stop_event.set()


def start_embedded_worker(app: Flask) -> WorkerLoop:
    """Start jobs, due timers and chores in background threads of this process."""
    loop = WorkerLoop(app, poll_seconds=app.config["WORKER_POLL_SECONDS"], with_scheduler=True)
    threading.Thread(target=loop.run, name="kesu-worker", daemon=True).start()
    scheduler = build_chore_scheduler(app, blocking=False)
    if scheduler is not None:
        scheduler.start()
    return loop


def build_chore_scheduler(app: Flask, *, blocking: bool) -> Any:
    """An APScheduler that runs the registered chores at their intervals (None if there are none)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    with app.app_context():
        chores = list(get_runtime().chores.values())
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    for chore in chores:
        scheduler.add_job(run_chore, "interval", seconds=chore.every_seconds, args=[app, chore.name],
                          id=chore.name, max_instances=1, coalesce=True)
    if blocking:
        scheduler.add_job(schedule_tick, "interval", seconds=1, args=[app], id="timers",
                          max_instances=1, coalesce=True)
    return scheduler if (chores or blocking) else None
