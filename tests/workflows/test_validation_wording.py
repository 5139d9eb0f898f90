"""Validation problems say what to do, even where SpiffWorkflow's own message does not."""
from __future__ import annotations

import pytest

from workflows.definitions import DefinitionError, build_bundle

TWO_WAYS_OUT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="work"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end_a" />
    <bpmn:endEvent id="end_b" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end_a" />
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end_b" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_task_with_two_outgoing_flows_is_told_to_use_a_gateway() -> None:
    with pytest.raises(DefinitionError) as refused:
        build_bundle({"bpmn/p.bpmn": TWO_WAYS_OUT})
    [problem] = refused.value.problems
    assert problem.element_id == "work"
    assert "only one outgoing flow" in problem.message and "gateway" in problem.message
    assert "of type" not in problem.message
