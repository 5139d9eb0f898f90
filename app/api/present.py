"""Turn models into the API's JSON representations (the shapes in `app.api.schemas`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import HumanTask, ProcessDefinition, ProcessInstance
from app.services import instance_queries, task_work

PRIORITY_NAMES = {1: "high", 2: "medium", 3: "low"}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def definition(row: ProcessDefinition, *, created: bool | None = None) -> dict[str, Any]:
    result = {"version": row.version, "content_hash": row.content_hash, "process_ids": list(row.process_ids),
              "deployed_by": row.deployed_by, "deployed_at": _time(row.deployed_at), "comment": row.comment}
    if created is not None:
        result["created"] = created
    return result


def processes(rows: list[ProcessDefinition]) -> list[dict[str, Any]]:
    """Group versions (newest first) by process id."""
    versions: dict[str, list[int]] = {}
    for row in rows:
        for process_id in row.process_ids:
            versions.setdefault(process_id, []).append(row.version)
    return [{"process_id": pid, "latest_version": max(vs), "versions": sorted(vs, reverse=True)}
            for pid, vs in sorted(versions.items())]


def task_summary(task: HumanTask) -> dict[str, Any]:
    return {"task_id": task.task_id, "name": task.name, "title": task.title,
            "candidate_group": task.candidate_group, "assignee": task.assignee}


def task(row: HumanTask) -> dict[str, Any]:
    return {**task_summary(row), "instance_id": row.instance_id, "process_id": row.process_id,
            "status": row.status, "priority": PRIORITY_NAMES.get(row.priority, "medium"),
            "form_key": row.form_key, "due_at": _time(row.due_at), "created_at": _time(row.created_at),
            "claimed_at": _time(row.claimed_at), "completed_at": _time(row.completed_at),
            "completed_by": row.completed_by}


def task_detail(row: HumanTask) -> dict[str, Any]:
    return {**task(row), "instructions": row.instructions, "form": task_work.task_form(row)}


def instance_summary(row: ProcessInstance) -> dict[str, Any]:
    return {"id": row.id, "process_id": row.process_id, "version": row.definition.version,
            "status": row.status, "business_key": row.business_key, "error": row.error_message,
            "started_by": row.started_by, "created_at": _time(row.created_at),
            "updated_at": _time(row.updated_at), "completed_at": _time(row.completed_at)}


def instance(row: ProcessInstance, *, now: datetime) -> dict[str, Any]:
    """An instance with its data and the human tasks it waits for."""
    return {**instance_summary(row), "data": instance_queries.instance_data(row, now=now),
            "tasks": [task_summary(t) for t in instance_queries.open_tasks(row.id)]}
