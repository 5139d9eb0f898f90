"""Migration check after a deploy: which running instances of older versions can move to it.

The analyst picks instances and moves them; each move is checked again, guarded by the
version the analyst saw (a changed instance is refused: check again), recorded in the
instance's own hash chain, re-pins the instance's definition and refreshes its task rows.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus
from app.services import audit, audit_console, definitions, processes
from workflows.engine import Event, Execution
from workflows.migration import MigrationRefused, check, migrate

MAX_LISTED = 200  # each listed instance is migrated on a copy to check it; page through by moving them
_OPEN = (InstanceStatus.RUNNING.value, InstanceStatus.WAITING.value, InstanceStatus.ERROR.value,
         InstanceStatus.SUSPENDED.value)


def target(version: int) -> ProcessDefinition:
    """Return a deployed version or raise NotFound."""
    definition = db.session.execute(select(ProcessDefinition).where(
        ProcessDefinition.version == version)).scalar_one_or_none()
    if definition is None:
        raise NotFound(f"version {version} was never deployed; pick one from the studio library")
    return definition


def candidates(version: int) -> list[dict[str, Any]]:
    """List unfinished instances of older versions of the same processes (the oldest MAX_LISTED), each checked."""
    new = target(version)
    rows = db.session.execute(
        select(ProcessInstance).join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.version < version, ProcessInstance.status.in_(_OPEN),
               ProcessInstance.process_id.in_(list(new.process_ids)))
        .order_by(ProcessInstance.id).limit(MAX_LISTED)).scalars().all()
    new_bundle = definitions.bundle_for(new)
    listed = []
    for instance in rows:
        if instance.state is None:
            result = {"can_migrate": False, "reasons": [_("the instance has no stored state (not started yet or "
                                                           "purged)")], "changed_steps": [], "restarted": []}
        else:
            result = check(instance.state, definitions.bundle_for(instance.definition), new_bundle,
                           instance.process_id).to_dict()
        listed.append({"id": instance.id, "business_key": instance.business_key, "process_id": instance.process_id,
                       "status": instance.status, "from_version": instance.definition.version,
                       "row_version": instance.version, "updated_at": instance.updated_at, **result})
    return listed


def migrate_instances(version: int, chosen: dict[int, int], *, actor: str, now: datetime) -> list[dict[str, Any]]:
    """Move each chosen instance ({id: the row version the analyst saw}) to ``version``.

    Returns one result per instance; a refused instance is left exactly as it was.
    """
    if not chosen:
        raise ValidationFailed(_("choose at least one instance to migrate"), fields={"instances": _("required")})
    new = target(version)
    results = []
    for instance_id, seen in sorted(chosen.items()):
        try:
            results.append(_migrate_one(instance_id, seen, new, actor=actor, now=now))
        except MigrationRefused as refused:
            results.append({"id": instance_id, "migrated": False, "reasons": refused.reasons})
    moved = [r["id"] for r in results if r["migrated"]]
    audit.record_system_event("studio.instances_migrated", {"version": version, "migrated": moved,
                                                            "refused": [r["id"] for r in results if not r["migrated"]]},
                              actor=actor, now=now)
    return results


def _migrate_one(instance_id: int, seen: int, new: ProcessDefinition, *, actor: str, now: datetime) -> dict[str, Any]:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise MigrationRefused([_("instance %(id)d does not exist", id=instance_id)])
    if instance.version != seen:
        raise MigrationRefused([_("instance %(id)d changed since you checked it (row version %(seen)d, now "
                                  "%(now)d); run the check again", id=instance_id, seen=seen, now=instance.version)])
    if instance.status not in _OPEN or instance.state is None:
        raise MigrationRefused([_("instance %(id)d is %(status)s; only unfinished instances move", id=instance_id,
                                  status=audit_console.INSTANCE_STATUS_LABELS.get(instance.status, instance.status))])
    old = instance.definition
    if old.version >= new.version:
        raise MigrationRefused([_("instance %(id)d is already on v%(version)d", id=instance_id, version=old.version)])
    if instance.status == InstanceStatus.SUSPENDED.value:
        raise MigrationRefused([_("instance %(id)d is suspended; resume it first", id=instance_id)])
    new_bundle = definitions.bundle_for(new)
    summary = check(instance.state, definitions.bundle_for(old), new_bundle, instance.process_id)
    if not summary.can_migrate:
        raise MigrationRefused(summary.reasons)
    moved = migrate(instance.state, definitions.bundle_for(old), new_bundle, instance.process_id)

    def command(execution: Execution) -> None:
        moved.script_engine = execution.workflow.script_engine
        execution.workflow, execution.bundle = moved, new_bundle
        execution.emit(Event("instance.migrated", {"from_version": old.version, "to_version": new.version,
                                                   "content_hash": new.content_hash,
                                                   "changed_steps": summary.changed_steps}, actor=actor))
        instance.definition = new  # saved with the instance row, under its version check
        execution.fire_timers()  # run what the new version makes ready; fires only timers already due

    processes.run_on_instance(instance_id, command, actor=actor, now=now)
    _refresh_tasks(instance, moved, new_bundle)
    return {"id": instance_id, "migrated": True, "reasons": [], "from_version": old.version,
            "to_version": new.version, "changed_steps": summary.changed_steps}


def _refresh_tasks(instance: ProcessInstance, workflow: Any, bundle: Any) -> None:
    """Rewrite the titles, forms and instructions of the instance's open task rows from the new version."""
    for task in workflow.get_tasks():
        spec = task.task_spec
        if not getattr(spec, "manual", False) or not getattr(spec, "bpmn_id", None):
            continue
        props = (getattr(spec, "extensions", None) or {}).get("properties", {}) or {}
        key = props.get("formKey") or props.get("formJsonSchemaFilename")
        db.session.execute(update(HumanTask).where(
            HumanTask.task_id == str(task.id), HumanTask.instance_id == instance.id,
            HumanTask.status == TaskStatus.OPEN.value).values(
            title=(spec.bpmn_name or spec.name)[:255],
            form_key=key.rsplit("/", 1)[-1].removesuffix(".json").removesuffix("-schema") if key else None,
            instructions=(spec.extensions or {}).get("instructionsForEndUser")).execution_options(
            synchronize_session=False))

