"""Move a running instance onto a newer version of its process, when that is safe.

SpiffWorkflow 3.2.0's ``diff_workflow`` aligns the instance's tasks with the new spec by
element id; ``migrate_workflow`` swaps the specs and re-predicts the branches that wait.
Kesu refuses a move when a step the instance has run, stands on or waits in (a queued
service call) no longer exists or, for a queued call, was changed; the move is then tried
on a copy and the copy must save and load against the new version before it is accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.util.task import TaskState

from workflows.definitions import SpecBundle
from workflows.persistence import dump_workflow, load_workflow
from workflows.specs import KesuServiceTask

# The spec diff compares task specs through their serialized form; the snapshot serializer's
# registry does not know Kesu's service task class (snapshots carry no specs) and would hand
# the object back unconverted, so the diff gets a registry that converts it as a ServiceTask.
_DIFF_REGISTRY = BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, KesuServiceTask: ServiceTaskConverter})

_DEFINITE = TaskState.COMPLETED | TaskState.ERROR | TaskState.STARTED | TaskState.READY | TaskState.WAITING


@dataclass
class MigrationCheck:
    """Whether an instance can move to the new version, why not, and what changes for it."""

    can_migrate: bool
    reasons: list[str] = field(default_factory=list)
    changed_steps: list[str] = field(default_factory=list)  # steps it stands on whose definition changed
    restarted: list[str] = field(default_factory=list)  # waiting steps re-entered on the new version

    def to_dict(self) -> dict[str, Any]:
        return {"can_migrate": self.can_migrate, "reasons": self.reasons, "changed_steps": self.changed_steps,
                "restarted": self.restarted}


def check(snapshot: str, old: SpecBundle, new: SpecBundle, process_id: str) -> MigrationCheck:
    """Say whether an instance (its snapshot on ``old``) can move to ``new``; nothing is changed."""
    try:
        migrate(snapshot, old, new, process_id)
    except MigrationRefused as refused:
        return MigrationCheck(False, refused.reasons)
    workflow = load_workflow(snapshot, *old.spec_for(process_id))
    return _summary(workflow, new, process_id)


class MigrationRefused(Exception):
    """The instance cannot move; ``reasons`` say why, one line per step."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def migrate(snapshot: str, old: SpecBundle, new: SpecBundle, process_id: str) -> BpmnWorkflow:
    """Return the instance moved onto ``new`` (a fresh workflow), or raise MigrationRefused."""
    if process_id not in new.specs:
        raise MigrationRefused([f"the new version has no process '{process_id}'"])
    workflow = load_workflow(snapshot, *old.spec_for(process_id))
    spec, dependencies = new.spec_for(process_id)
    top, sub_diffs = diff_workflow(_DIFF_REGISTRY, workflow, spec, dependencies)
    reasons = _blocking(top, "")
    for sub_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        if sub_diff is None:
            reasons.append(f"subprocess '{sub.spec.name}' that the instance is in no longer exists")
        else:
            reasons.extend(_blocking(sub_diff, f" (in subprocess '{sub.spec.name}')"))
    if reasons:
        raise MigrationRefused(reasons)
    timers = {t.id: dict(t.internal_data) for t in workflow.get_tasks(state=TaskState.WAITING)
              if t not in top.changed and "event_value" in t.internal_data}
    migrate_workflow(top, workflow, spec)
    for sub_id, sub_diff in sub_diffs.items():
        if sub_diff is not None:
            migrate_workflow(sub_diff, workflow.subprocesses[sub_id], dependencies[workflow.subprocesses[sub_id].spec.name])
    workflow.subprocess_specs = dependencies
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if task.id in timers:  # an unchanged timer keeps its due time instead of starting over
            task.internal_data.update(timers[task.id])
    try:
        moved = load_workflow(dump_workflow(workflow), spec, dependencies)
    except Exception as error:  # the serializer names what does not fit the new spec
        raise MigrationRefused([f"the moved instance does not load on the new version: {error}"]) from None
    return moved


def _blocking(diff: Any, where: str) -> list[str]:
    reasons = []
    for task in diff.removed:
        if task.state & _DEFINITE:
            what = "has run" if task.state == TaskState.COMPLETED else f"is {TaskState.get_name(task.state).lower()} at"
            reasons.append(f"step '{_label(task)}' that the instance {what} no longer exists in the new version{where}")
    for task in diff.changed:
        if task.state == TaskState.STARTED:
            reasons.append(f"step '{_label(task)}' waits for a service call and was changed in the new version{where}")
    return reasons


def _summary(workflow: BpmnWorkflow, new: SpecBundle, process_id: str) -> MigrationCheck:
    spec, dependencies = new.spec_for(process_id)
    top, _subs = diff_workflow(_DIFF_REGISTRY, workflow, spec, dependencies)
    open_states = TaskState.READY | TaskState.WAITING
    changed = [_label(t) for t in top.changed if t.state & open_states]
    restarted = [_label(t) for t in workflow.get_tasks(state=open_states, skip_subprocesses=True)
                 if getattr(t.task_spec, "bpmn_id", None)]
    return MigrationCheck(True, [], changed, restarted)


def _label(task: Any) -> str:
    spec = task.task_spec
    return spec.bpmn_name or getattr(spec, "bpmn_id", None) or spec.name
