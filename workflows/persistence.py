"""Instance snapshots without the spec, and the JSON conventions of the event log.

A snapshot holds the task tree and data only; the spec is re-attached from the cache of
the instance's pinned version on load (restoring a spec costs more than the instance).
"""
from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnSubWorkflowConverter, BpmnWorkflowConverter,
                                                            TaskConverter, WorkflowConverter)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

SNAPSHOT_FORMAT = "kesu-1"
_LONG_NUMBER = re.compile(r"\d{19}")
# Datetimes and dataclasses go through the registry (as with the json module), not orjson's own format.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _remembered(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return ``convert`` with its results remembered."""
    results: dict[Any, Any] = {}

    def lookup(value: Any) -> Any:
        result = results.get(value)
        if result is None:
            result = results[value] = convert(value)
        return result
    return lookup


class FastTaskMapping(WorkflowConverter):
    """The task mapping of a (sub)workflow written and read in one pass, in 3.2.0's exact format.

    SpiffWorkflow converts every task through the generic registry and parses every task id
    several times; here each task becomes its dict directly and each id string is parsed
    once per load. The dicts are the ones `TaskConverter` reads and writes (a test compares
    both), so snapshots stay interchangeable with the stock serializer.
    """

    def mapping_to_dict(self, mapping: Any, **kwargs: Any) -> dict[str, Any]:
        if not mapping or type(next(iter(mapping.values()))) is not Task:
            return super().mapping_to_dict(mapping, **kwargs)
        name = _remembered(str)  # each id is printed once, though it appears as key, parent and child
        convert, tasks = self.registry.convert, {}
        for task_id, task in mapping.items():
            parent = mapping.get(task._parent) if task._parent is not None else None
            if parent is None and task._parent is not None:
                parent = task.parent  # the parent lives in another (sub)workflow
            if parent is None:
                data, delta = task.data, {}
            else:
                data, delta = {}, {"updates": DeepMerge.get_updated_keys(parent.data, task.data),
                                   "deletions": DeepMerge.get_deleted_keys(parent.data, task.data)}
            tasks[name(task_id)] = {
                "id": name(task.id), "parent": name(task._parent) if parent is not None else None,
                "children": [name(child) for child in task._children], "last_state_change": task.last_state_change,
                "state": task.state, "task_spec": task.task_spec.name, "triggered": task.triggered,
                "internal_data": convert(task.internal_data) if task.internal_data else {},
                "data": data, "delta": delta, "typename": _TASK_TYPENAME}
        return tasks

    def mapping_from_dict(self, mapping: Any, key_class: Any = None, **kwargs: Any) -> dict[Any, Any]:
        workflow = kwargs.get("workflow")
        if key_class is not UUID or workflow is None or any(
                v.get("typename") != _TASK_TYPENAME for v in mapping.values()):
            return super().mapping_from_dict(mapping, key_class, **kwargs)
        uuid = _remembered(UUID)  # each id is parsed once, though it appears as key, parent and child
        restore, specs, tasks = self.registry.restore, workflow.spec.task_specs, {}
        for key, dct in mapping.items():
            task_spec = specs.get(dct["task_spec"])
            task = Task(workflow, task_spec, state=dct["state"], id=uuid(dct["id"]))
            task._parent = uuid(dct["parent"]) if dct["parent"] is not None else None
            task._children = [uuid(child) for child in dct["children"]]
            task.last_state_change = dct["last_state_change"]
            task.triggered = dct["triggered"]
            task.internal_data = restore(dct["internal_data"]) if dct["internal_data"] else {}
            if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
                task.workflow.top_workflow.event_manager.add_task(task)
            delta, parent = dct.get("delta"), task.parent
            if delta and parent is not None:
                data = DeepMerge.merge({}, parent.data)
                updates = delta.get("updates")
                if updates:
                    data.update(restore(updates))
                for name in delta.get("deletions", ()):
                    data.pop(name, None)
            else:
                data = restore(dct["data"]) if dct["data"] else {}
            task.data = data
            tasks[uuid(key)] = task
        return tasks


class FastSubWorkflowConverter(FastTaskMapping, BpmnSubWorkflowConverter):
    """Subprocesses with the one-pass task mapping."""


class SpeclessWorkflowConverter(FastTaskMapping, BpmnWorkflowConverter):
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


def build_serializer(workflow_converter: type = SpeclessWorkflowConverter,
                     subworkflow_converter: type = FastSubWorkflowConverter) -> BpmnWorkflowSerializer:
    """The snapshot serializer (tests build one with SpiffWorkflow's own task converters to compare)."""
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = workflow_converter
    config[BpmnSubWorkflow] = subworkflow_converter
    registry = BpmnWorkflowSerializer.configure(config)
    # Money and dates must survive a save: 3.2.0 raises TypeError on both by default.
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = build_serializer()
_TASK_TYPENAME = _SERIALIZER.registry.typenames[Task]
assert SPIFF_CONFIG[Task] is TaskConverter, "the one-pass task mapping mirrors TaskConverter"


def spec_registry() -> Any:
    """Return the serializer's registry (SpiffWorkflow's spec diff compares specs through it)."""
    return _SERIALIZER.registry


class LiveWorkflows:
    """Workflows kept in memory after a command, each valid only for the exact snapshot it was saved as.

    A snapshot determines its workflow, so when an instance's stored snapshot (and pinned
    version) is still the one a workflow was dumped to, loading it again would rebuild the
    same workflow: the next command takes this one instead. Any other writer, a rollback, an
    erasure or a migration changes the stored text, and the entry no longer matches. An entry
    is taken out while a command runs, so two commands never share a workflow.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._entries: OrderedDict[int, tuple[Any, str, BpmnWorkflow, Any]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def take(self, instance_id: int, pin: Any, snapshot: str) -> tuple[BpmnWorkflow, Any] | None:
        """Return (workflow, what was kept with it) if it was saved as ``snapshot`` under ``pin``."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
        if entry is None or entry[0] != pin or entry[1] != snapshot:
            return None
        return entry[2], entry[3]

    def keep(self, instance_id: int, pin: Any, snapshot: str, workflow: BpmnWorkflow, extra: Any) -> None:
        """Keep a workflow that was just dumped to ``snapshot`` (and is not changed afterwards)."""
        if self._capacity <= 0:
            return
        with self._lock:
            self._entries[instance_id] = (pin, snapshot, workflow, extra)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Return the spec-less JSON snapshot of a workflow."""
    dct = _SERIALIZER.to_dict(workflow)
    dct["format"] = SNAPSHOT_FORMAT
    # 3.2.0 stores task-data deltas unconverted; typed values go through the registry here.
    # orjson is ~10x faster; the json module stays for what orjson writes differently or refuses
    # (NaN and infinities, integers beyond 64 bits, values nothing can store: same error as before).
    if not _has_non_finite(dct):
        try:
            return orjson.dumps(dct, default=_convert, option=_ORJSON_OPTIONS).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(dct, separators=(",", ":"), default=_convert)


def load_workflow(snapshot: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from a snapshot onto its (cached) spec."""
    dct = None
    if not _LONG_NUMBER.search(snapshot):  # orjson reads integers beyond 64 bits as floats
        try:
            dct = orjson.loads(snapshot)
        except orjson.JSONDecodeError:  # NaN or an infinity, written by the json module
            pass
    if dct is None:
        dct = json.loads(snapshot)
    if dct.pop("format", None) != SNAPSHOT_FORMAT:
        raise ValueError("unknown snapshot format; it was not written by this version of Kesu")
    converter = SpeclessWorkflowConverter(BpmnWorkflow, _SERIALIZER.registry)
    return converter.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def _has_non_finite(dct: dict[str, Any]) -> bool:
    """Whether the process data of a snapshot holds NaN or an infinity (orjson would write null)."""
    values: list[Any] = []
    for workflow in (dct, *dct.get("subprocesses", {}).values()):
        values.append(workflow.get("data"))
        for task in workflow.get("tasks", {}).values():
            values += (task.get("data"), task.get("internal_data"), (task.get("delta") or {}).get("updates"))
    while values:
        value = values.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                return True
        elif isinstance(value, dict):
            values.extend(value.values())
        elif isinstance(value, (list, tuple)):
            values.extend(value)
    return False


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
    """Serialise deterministically (sorted keys, no spaces, UTF-8 kept) for hashing.

    The hashed text is the json module's. orjson writes the very same text for plain values
    (str keys; strings; booleans; null; 64-bit integers; floats written without an exponent
    by Python: 0 and 1e-4 <= |x| < 1e16) and is used for those; anything else takes the json
    module, so every existing chain still verifies.
    """
    if _orjson_writes_it_the_same(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:  # e.g. a lone surrogate in a string
            pass
    return _json_canonical(value)


def _json_canonical(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=to_jsonable)
    except TypeError:  # keys of mixed types cannot be sorted until they are all strings
        return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _orjson_writes_it_the_same(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -(1 << 63) <= item < (1 << 63):
                continue
            return False
        if kind is float:
            if item == 0 or 1e-4 <= abs(item) < 1e16:  # False for NaN and infinities
                continue
            return False
        if kind is dict:
            if any(type(key) is not str for key in item):
                return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


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
