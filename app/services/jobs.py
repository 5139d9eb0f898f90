"""Background jobs: enqueue once per idempotency key, claim with a lease, finish or retry.

Claiming is one winner per job: PostgreSQL uses ``FOR UPDATE SKIP LOCKED`` so workers
never wait on each other; SQLite serialises writers (BEGIN IMMEDIATE) and the claim is a
conditional UPDATE. A worker that dies leaves its job ``running`` with an expired lease;
the next claim takes it over.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Job, JobStatus, Timer, TimerStatus


def enqueue(kind: str, operator: str, params: dict[str, Any], idempotency_key: str, *, now: datetime,
            run_at: datetime | None = None, instance_id: int | None = None, task_id: str | None = None,
            max_attempts: int = 5) -> None:
    """Queue a job; a second enqueue with the same key does nothing."""
    values = dict(kind=kind, operator=operator, params=params, idempotency_key=idempotency_key,
                  instance_id=instance_id, task_id=task_id, status=JobStatus.QUEUED.value, attempts=0,
                  max_attempts=max_attempts, run_at=run_at or now, created_at=now)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(Job).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"]))


def claim_next(*, worker_id: str, now: datetime, lease_seconds: int) -> Job | None:
    """Claim the oldest runnable job (queued and due, or running with an expired lease)."""
    runnable = or_(
        (Job.status == JobStatus.QUEUED.value) & (Job.run_at <= now),
        (Job.status == JobStatus.RUNNING.value) & (Job.lease_until < now),
    )
    query = select(Job.id).where(runnable).order_by(Job.run_at, Job.id).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job_id = db.session.execute(query).scalar()
    if job_id is None:
        return None
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, runnable)
        .values(status=JobStatus.RUNNING.value, attempts=Job.attempts + 1, locked_by=worker_id,
                lease_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    return job


def finish(job: Job, *, now: datetime, result: dict[str, Any] | None = None) -> None:
    job.status = JobStatus.DONE.value
    job.result = result
    job.finished_at = now
    job.lease_until = None


def fail(job: Job, *, now: datetime, error: str, retryable: bool) -> bool:
    """Record a failed attempt; return True if the job will be tried again."""
    job.last_error = error[:2000]
    job.lease_until = None
    if retryable and job.attempts < job.max_attempts:
        job.status = JobStatus.QUEUED.value
        job.run_at = now + timedelta(seconds=min(300, 2 ** job.attempts))
        return True
    job.status = JobStatus.FAILED.value
    job.finished_at = now
    return False


def schedule_due_timers(*, now: datetime, limit: int = 500) -> int:
    """Turn timers that are due into timer jobs (once each); return how many were queued."""
    due = db.session.execute(
        select(Timer).where(Timer.status == TimerStatus.WAITING.value, Timer.due_at <= now)
        .order_by(Timer.due_at).limit(limit)).scalars().all()
    for timer in due:
        enqueue("timer", "fire_timers", {"timer_id": timer.id}, f"timer:{timer.task_id}:{timer.due_at.isoformat()}",
                now=now, instance_id=timer.instance_id, task_id=timer.task_id)
        timer.status = "scheduled"
    return len(due)
