"""Queued starts (`POST /api/v1/instances?mode=async`): the worker runs them as `start` jobs."""
from __future__ import annotations

from app.extensions import db
from app.models import Job
from app.runtime import get_runtime
from app.services import jobs, processes
from app.services.uow import run_command
from app.worker import register_job_kind


def run_start_job(job: Job) -> None:
    """Run a queued instance until it waits; the instance's save and the job's done mark commit together."""
    def command() -> None:
        now = get_runtime().clock.now()
        current = db.session.get(Job, job.id)
        processes.run_start(processes.get_instance(current.instance_id), current.params.get("data", {}), now=now)
        jobs.finish(current, now=now)
    run_command(command, retries=get_runtime().conflict_retries)


def register_start_jobs() -> None:
    register_job_kind("start", run_start_job)
