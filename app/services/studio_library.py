"""What the studio library and the modeler's side panel read: versions, counts, operators, forms."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import InstanceStatus, ProcessDefinition, ProcessInstance, User
from app.runtime import get_runtime
from app.services.studio_files import ALWAYS_KNOWN_GROUPS

_FINISHED = (InstanceStatus.COMPLETED.value, InstanceStatus.CANCELLED.value)


def running_counts() -> dict[int, int]:
    """Return {definition id: number of unfinished instances}."""
    rows = db.session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.status.not_in(_FINISHED)).group_by(ProcessInstance.definition_id))
    return {definition_id: count for definition_id, count in rows}


def versions() -> list[dict[str, Any]]:
    """Return every deployed version, newest first, with who, when and its running instances."""
    counts = running_counts()
    rows = db.session.execute(select(ProcessDefinition).order_by(ProcessDefinition.version.desc())).scalars()
    return [{"version": d.version, "id": d.id, "deployed_by": d.deployed_by, "approved_by": d.approved_by,
             "deployed_at": d.deployed_at, "comment": d.comment, "processes": list(d.process_ids),
             "decisions": [f.path for f in d.files if f.kind == "dmn"], "running": counts.get(d.id, 0),
             "content_hash": d.content_hash[:12]} for d in rows]


def library() -> dict[str, list[dict[str, Any]]]:
    """Group the versions by process and by decision table, each with its version history."""
    by_process: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_decision: dict[str, list[dict[str, Any]]] = defaultdict(list)
    all_versions = versions()
    for version in all_versions:
        for process_id in version["processes"]:
            by_process[process_id].append(version)
        for path in version["decisions"]:
            by_decision[path].append(version)
    return {"versions": all_versions,
            "processes": [{"name": k, "versions": v} for k, v in sorted(by_process.items())],
            "decisions": [{"name": k, "versions": v} for k, v in sorted(by_decision.items())]}


def operator_catalog() -> list[dict[str, Any]]:
    """Return the registered service-task operators with their parameters, for the side panel."""
    return [{"name": op.name, "parameters": list(op.parameters), "description": op.description,
             "asynchronous": op.asynchronous} for op in sorted(get_runtime().operators, key=lambda o: o.name)]


def group_catalog() -> list[str]:
    """Return every group a user task can be offered to."""
    groups = set(ALWAYS_KNOWN_GROUPS)
    for user_groups in db.session.execute(select(User.groups)).scalars():
        groups.update(user_groups or [])
    return sorted(groups)
