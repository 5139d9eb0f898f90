"""Snapshots: the one-pass task mapping and orjson write exactly what SpiffWorkflow's own converters would."""
from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.helpers.bpmn_converter import BpmnConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnSubWorkflowConverter

from tests.support.engine import EngineHarness, xml_process
from workflows.definitions import build_bundle
from workflows.engine import Execution
from workflows.persistence import (SNAPSHOT_FORMAT, SpeclessWorkflowConverter, build_serializer, dump_workflow,
                                   load_workflow)

BENCH_MODELS = Path(__file__).resolve().parents[2] / "bench" / "models"


class _StockTasks(SpeclessWorkflowConverter):
    """The same spec-less converter with SpiffWorkflow's own per-task registry conversion."""

    mapping_to_dict = BpmnConverter.mapping_to_dict
    mapping_from_dict = BpmnConverter.mapping_from_dict


STOCK = build_serializer(_StockTasks, BpmnSubWorkflowConverter)


def _stock_dump(workflow: BpmnWorkflow) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        return STOCK.registry.convert(value)
    return json.loads(json.dumps({**STOCK.to_dict(workflow), "format": SNAPSHOT_FORMAT}, default=convert))


def _subprocess_diagram() -> str:
    return xml_process("""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub" />
      <bpmn:subProcess id="sub"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
        <bpmn:startEvent id="ss"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
        <bpmn:sequenceFlow id="g1" sourceRef="ss" targetRef="inner" />
        <bpmn:userTask id="inner"><bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing></bpmn:userTask>
        <bpmn:sequenceFlow id="g2" sourceRef="inner" targetRef="se" />
        <bpmn:endEvent id="se"><bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>
      </bpmn:subProcess>
      <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="e" />
      <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""")


def _executions(engine: EngineHarness) -> list[Execution]:
    bench = build_bundle({"bpmn/complaint_bench.bpmn": (BENCH_MODELS / "complaint_bench.bpmn").read_text(),
                          "rules/priority.dmn": (BENCH_MODELS / "priority.dmn").read_text()})
    engine.operators.register("bench_classify", lambda call: {"category": "product.quality", "confidence": 0.9})
    waiting = engine.start(bench, "complaint_bench", {"text": "苹果烂了", "emotion": "angry", "amount": 36.5,
                                                      "paid": Decimal("36.50"), "ordered_on": date(2026, 1, 2)})
    done = engine.start(bench, "complaint_bench", {"text": "t", "emotion": "calm", "amount": 3})
    [task] = done.human_tasks()
    done.complete_task(task.task_id, {"outcome": "reply", "nested": {"list": [1, 2.5, None]}}, actor="a")
    nested = engine.start(build_bundle({"bpmn/p.bpmn": _subprocess_diagram()}), "p", {"order": {"id": 7}})
    return [waiting, done, nested]


def test_snapshots_are_what_spiffworkflows_converters_write(engine: EngineHarness) -> None:
    executions = _executions(engine)
    assert executions[2].workflow.subprocesses, "the subprocess case must hold a subprocess"
    for execution in executions:
        assert json.loads(dump_workflow(execution.workflow)) == _stock_dump(execution.workflow)


def test_snapshots_load_into_the_same_workflow_as_with_spiffworkflows_converters(engine: EngineHarness) -> None:
    for execution in _executions(engine):
        snapshot = dump_workflow(execution.workflow)
        spec, subprocess_specs = execution.bundle.spec_for(execution.process_id)
        fast = load_workflow(snapshot, spec, subprocess_specs)
        stock_dct = json.loads(snapshot)
        stock_dct.pop("format")
        stock = _StockTasks(BpmnWorkflow, STOCK.registry).from_dict(stock_dct, spec=spec,
                                                                     subprocess_specs=subprocess_specs)
        assert _stock_dump(fast) == _stock_dump(stock) == json.loads(snapshot)
        for task_id, task in stock.tasks.items():
            assert fast.tasks[task_id].data == task.data and fast.tasks[task_id].state == task.state
        assert set(fast.subprocesses) == set(stock.subprocesses)


@pytest.mark.parametrize("value", [math.nan, math.inf, 2 ** 70])
def test_values_orjson_cannot_write_exactly_go_through_the_json_module(engine: EngineHarness, value: Any) -> None:
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _subprocess_diagram()}), "p", {"x": value})
    snapshot = execution.dump()
    restored = engine.reload(execution)
    [task] = restored.human_tasks()
    loaded = restored.workflow.get_task_from_id(__import__("uuid").UUID(task.task_id)).data["x"]
    assert (math.isnan(loaded) if value != value else loaded == value), snapshot
    assert type(loaded) is type(value)


def test_a_value_nothing_can_store_is_refused_as_before(engine: EngineHarness) -> None:
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _subprocess_diagram()}), "p", {})
    [task] = execution.human_tasks()
    execution.workflow.get_task_from_id(__import__("uuid").UUID(task.task_id)).data["x"] = object()
    with pytest.raises(TypeError, match="object values cannot be stored in process data"):
        execution.dump()
