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


def running_counts() -> dict[int, dict[str, int]]:
    """Return {definition id: {process id: number of unfinished instances}}."""
    rows = db.session.execute(
        select(ProcessInstance.definition_id, ProcessInstance.process_id, func.count())
        .where(ProcessInstance.status.not_in(_FINISHED))
        .group_by(ProcessInstance.definition_id, ProcessInstance.process_id))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for definition_id, process_id, count in rows:
        counts[definition_id][process_id] = count
    return counts


def versions() -> list[dict[str, Any]]:
    """Return every deployed version, newest first, with who, when and its running instances (all, and per process)."""
    counts = running_counts()
    rows = db.session.execute(select(ProcessDefinition).order_by(ProcessDefinition.version.desc())).scalars()
    return [{"version": d.version, "id": d.id, "deployed_by": d.deployed_by, "approved_by": d.approved_by,
             "deployed_at": d.deployed_at, "comment": d.comment, "processes": list(d.process_ids),
             "decisions": [f.path for f in d.files if f.kind == "dmn"], "running": sum(counts[d.id].values()),
             "running_by_process": dict(counts[d.id]), "content_hash": d.content_hash[:12]} for d in rows]


def library() -> dict[str, list[dict[str, Any]]]:
    """Group the versions by process and by decision table, each with its version history."""
    by_process: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_decision: dict[str, list[dict[str, Any]]] = defaultdict(list)
    all_versions = versions()
    for version in all_versions:
        for process_id in version["processes"]:  # a process's row counts its own instances only
            by_process[process_id].append({**version, "running": version["running_by_process"].get(process_id, 0)})
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
