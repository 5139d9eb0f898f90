"""Instance snapshots without the spec, and the JSON conventions of the event log.

A snapshot holds the task tree and data only; the spec is re-attached from the cache of
the instance's pinned version on load (restoring a spec costs more than the instance).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

SNAPSHOT_FORMAT = "kesu-1"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Serialise a workflow without its spec; restore it onto a spec given by the caller."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None,
                  subprocess_specs: Any = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("a spec-less snapshot needs its spec to be restored")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Money and dates must survive a save: 3.2.0 raises TypeError on both by default.
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _build_serializer()


def spec_registry() -> Any:
    """Return the serializer's registry (SpiffWorkflow's spec diff compares specs through it)."""
    return _SERIALIZER.registry


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Return the spec-less JSON snapshot of a workflow."""
    dct = _SERIALIZER.to_dict(workflow)
    dct["format"] = SNAPSHOT_FORMAT
    # 3.2.0 stores task-data deltas unconverted; typed values go through the registry here.
    return json.dumps(dct, separators=(",", ":"), default=_convert)


def load_workflow(snapshot: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from a snapshot onto its (cached) spec."""
    dct = json.loads(snapshot)
    if dct.pop("format", None) != SNAPSHOT_FORMAT:
        raise ValueError("unknown snapshot format; it was not written by this version of Kesu")
    converter = SpeclessWorkflowConverter(BpmnWorkflow, _SERIALIZER.registry)
    return converter.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def _convert(value: Any) -> Any:
    converted = _SERIALIZER.registry.convert(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} values cannot be stored in process data")
    return converted


def to_jsonable(value: Any) -> Any:
    """Return a JSON-compatible copy: Decimal -> str, dates -> ISO strings, tuples/sets -> lists."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def canonical_json(value: Any) -> str:
    """Serialise deterministically (sorted keys, no spaces, UTF-8 kept) for hashing."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=to_jsonable)
    except TypeError:  # keys of mixed types cannot be sorted until they are all strings
        return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def data_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the top-level keys a step set (with their new values) and removed."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    removed = sorted(k for k in before if k not in after)
    diff: dict[str, Any] = {}
    if changed:
        diff["set"] = to_jsonable(changed)
    if removed:
        diff["removed"] = removed
    return diff
