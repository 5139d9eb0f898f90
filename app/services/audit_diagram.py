"""The diagram at step N: the pinned BPMN file and, per recorded event, the path and tokens so far."""
from __future__ import annotations

import copy
import re
from typing import Any

from flask_babel import gettext as _

from app.errors import NotFound
from app.services import audit_console, processes

OPEN_STATES = {"ready", "waiting", "started"}
CLOSED_STATES = {"completed", "cancelled", "error"}


def diagram_xml(instance_id: int) -> tuple[str, str]:
    """The (path, XML) of the instance's pinned BPMN file that defines its process."""
    instance = processes.get_instance(instance_id)
    pattern = re.compile(r"<(?:\w+:)?process\b[^>]*\bid=\"" + re.escape(instance.process_id) + "\"")
    for item in instance.definition.files:
        if item.kind == "bpmn" and pattern.search(item.content):
            return item.path, item.content
    raise NotFound(_("version v%(version)d holds no BPMN file defining process '%(process)s'; the deployment is "
                     "incomplete, redeploy it", version=instance.definition.version, process=instance.process_id))


def _apply(data: dict[str, Any], diff: Any) -> None:
    if not isinstance(diff, dict):
        return
    data.update(diff.get("set") or {})
    for key in diff.get("removed") or []:
        data.pop(key, None)


def steps(instance_id: int, *, unmasked: bool = False) -> list[dict[str, Any]]:
    """One entry per event: what happened, the elements completed so far, the open tokens and the data.

    ``completed`` lists element ids whose task completed up to this step; ``current`` those with a
    task ready, waiting or started at this step; ``data`` applies the recorded diffs up to the step
    (start data, then each completed task's diff), masked unless ``unmasked``.
    """
    data: dict[str, Any] = {}
    completed: list[str] = []
    open_tasks: dict[str, str] = {}  # engine task id -> element id
    result = []
    for event in audit_console.history(instance_id, unmasked=True):
        payload, element = event["payload"], event["task_name"]
        if event["event_type"] == "instance.started" and isinstance(payload.get("data"), dict):
            data = copy.deepcopy(payload["data"])
        state = payload.get("state") if event["event_type"].startswith("task.") else None
        if state in OPEN_STATES and event["task_id"]:
            open_tasks[event["task_id"]] = element
        elif state in CLOSED_STATES and event["task_id"]:
            open_tasks.pop(event["task_id"], None)
            if state == "completed":
                _apply(data, payload.get("data"))
                if element not in completed:
                    completed.append(element)
        result.append({"step": len(result) + 1, "seq": event["seq"], "event_type": event["event_type"],
                       "element": element, "title": payload.get("title") or element, "actor": event["actor"],
                       "occurred_at": event["occurred_at"], "completed": list(completed),
                       "current": sorted(set(open_tasks.values())),
                       "data": copy.deepcopy(data) if unmasked else audit_console.mask(data)})
    return result
