"""Helpers for running diagrams through Kesu's engine without a database."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workflows.definitions import SpecBundle, build_bundle
from workflows.engine import CommandContext, Execution, SandboxEnvironment
from workflows.services import OperatorRegistry

DATA = Path(__file__).resolve().parent.parent / "data"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def read_files(*names: str, folder: str = "engine") -> dict[str, str]:
    """Read test diagrams by name from tests/data/<folder> as {path: text}."""
    base = DATA / folder
    files = {}
    for name in names:
        path = base / name
        prefix = "bpmn/forms" if name.endswith(".json") else ("rules" if name.endswith(".dmn") else "bpmn")
        files[f"{prefix}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def bundle_of(*names: str, folder: str = "engine") -> SpecBundle:
    return build_bundle(read_files(*names, folder=folder))


def xml_process(body: str, process_id: str = "p") -> str:
    """Wrap BPMN process elements in a definitions document."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://kesu.example/t">
  <bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"""


def rule_process(decision_id: str = "size") -> str:
    """A process that runs one business rule task calling ``decision_id``."""
    return xml_process(f"""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide" />
      <bpmn:businessRuleTask id="decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision_id}</spiffworkflow:calledDecisionId>
        </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>
      <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="e" />
      <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""")


def message_process(process_id: str = "p") -> str:
    """A process that waits for message `refund_result` correlated on `refund_id` (into `result`)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://kesu.example/t">
  <bpmn:collaboration id="c"><bpmn:participant id="part" processRef="{process_id}" />
    <bpmn:correlationKey name="refund_key"><bpmn:correlationPropertyRef>refund_id</bpmn:correlationPropertyRef></bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:message id="refund_result" name="refund_result" />
  <bpmn:correlationProperty id="refund_id" name="refund_id">
    <bpmn:correlationPropertyRetrievalExpression messageRef="refund_result"><bpmn:formalExpression>refund_id</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="refund_result"><bpmn:extensionElements>
        <spiffworkflow:messageVariable>result</spiffworkflow:messageVariable>
        <spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>refund_id</spiffworkflow:propertyId>
          <spiffworkflow:expression>refund_id</spiffworkflow:expression></spiffworkflow:processVariableCorrelation>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e" />
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


class EngineHarness:
    """Start and drive executions with one operator registry, one sandbox and a movable clock."""

    def __init__(self, environment: SandboxEnvironment) -> None:
        self.environment = environment
        self.operators = OperatorRegistry()
        self.now = T0

    def context(self, actor: str | None = None) -> CommandContext:
        return CommandContext(now=self.now, actor=actor, instance_id=1)

    def start(self, bundle: SpecBundle, process_id: str, data: dict[str, Any], **kw: Any) -> Execution:
        return Execution.start(bundle, process_id, data, self.context(kw.pop("actor", None)),
                               operators=self.operators, environment=self.environment, **kw)

    def reload(self, execution: Execution, actor: str | None = None) -> Execution:
        """Save and load again, as the next request would."""
        return Execution.load(execution.bundle, execution.process_id, execution.dump(), self.context(actor),
                              operators=self.operators, environment=self.environment,
                              max_tasks=execution.max_tasks)


def event_types(execution: Execution) -> list[str]:
    return [f"{e.type}:{e.task_name}" if e.task_name else e.type for e in execution.events]
