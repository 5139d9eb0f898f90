"""Read deployed versions and instances for lists and detail views (no writes)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db
from app.models import HumanTask, Job, JobStatus, ProcessDefinition, ProcessInstance, TaskStatus
from app.services import processes
from app.services.task_work import STAFF_WORK
from workflows.persistence import to_jsonable


def list_definitions() -> list[ProcessDefinition]:
    """Every deployed version, newest first."""
    return list(db.session.execute(select(ProcessDefinition).order_by(ProcessDefinition.version.desc())).scalars())


def definition_by_version(version: int) -> ProcessDefinition:
    definition = db.session.execute(
        select(ProcessDefinition).where(ProcessDefinition.version == version)).scalar_one_or_none()
    if definition is None:
        raise NotFound(f"version {version} is not deployed; list versions with GET /api/v1/definitions")
    return definition


def list_instances(*, process_id: str | None = None, status: str | None = None,
                   business_key: str | None = None, limit: int = 50, offset: int = 0) -> list[ProcessInstance]:
    """The newest instances matching every filter given."""
    query = select(ProcessInstance)
    for column, value in ((ProcessInstance.process_id, process_id), (ProcessInstance.status, status),
                          (ProcessInstance.business_key, business_key)):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(ProcessInstance.id.desc()).limit(limit).offset(offset)
    return list(db.session.execute(query).scalars())


def open_tasks(instance_id: int) -> list[HumanTask]:
    return list(db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN.value)
        .order_by(HumanTask.id)).scalars())


def instance_data(instance: ProcessInstance, *, now: datetime) -> dict[str, Any]:
    """The instance's current data (that of its latest step), as JSON values."""
    if instance.state is None:
        return {}
    data = to_jsonable(processes.load_execution(instance, now=now).data)
    return data if isinstance(data, dict) else {}


def system_summary() -> tuple[dict[str, int], ProcessDefinition | None]:
    """Return the landing page's counts (versions, instances, open staff tasks, queued jobs) and the newest version."""
    def count(query: Any) -> int:
        return int(db.session.execute(query).scalar() or 0)

    summary = {
        "definitions": count(select(func.count(ProcessDefinition.id))),
        "instances": count(select(func.count(ProcessInstance.id))),
        "open_tasks": count(select(func.count(HumanTask.id))
                            .where(HumanTask.status == TaskStatus.OPEN.value, STAFF_WORK)),
        "queued_jobs": count(select(func.count(Job.id)).where(Job.status == JobStatus.QUEUED.value)),
    }
    latest = db.session.execute(select(ProcessDefinition).order_by(ProcessDefinition.version.desc())
                                .limit(1)).scalar_one_or_none()
    return summary, latest
