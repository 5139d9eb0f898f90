"""The engine layer on its own: every command, and each SpiffWorkflow 3.2.0 pitfall guarded."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.support.engine import EngineHarness, bundle_of, event_types, message_process, rule_process, xml_process
from workflows.definitions import build_bundle
from workflows.engine import EngineError
from workflows.services import ServiceError

FILES = ("complaint_engine.bpmn", "priority.dmn", "handle.json")


def _complaint(engine: EngineHarness, **data):  # type: ignore[no-untyped-def]
    engine.operators.register("refund_now", lambda call: {"status": "paid", "amount": call.params["amount"]})
    start = {"text": "坏了", "emotion": "calm", "amount": 600, "order_id": "O-1"}
    start.update(data)
    return engine.start(bundle_of(*FILES), "complaint_engine", start)


def test_automatic_path_runs_to_the_end_with_a_timeline(engine: EngineHarness) -> None:
    execution = _complaint(engine, emotion="angry", amount=30)
    assert execution.status == "completed"
    assert execution.data["refund"] == {"status": "paid", "amount": 30}
    assert event_types(execution) == [
        "instance.started", "task.completed:start", "task.completed:prepare", "task.ready:decide_priority",
        "decision.evaluated:decide_priority", "task.completed:decide_priority", "task.completed:gw_auto",
        "task.ready:refund", "service.called:refund", "task.completed:refund", "task.completed:end_auto"]
    prepare = next(e for e in execution.events if e.task_name == "prepare")
    assert prepare.payload["data"] == {"set": {"angry": True, "text_length": 2}}


def test_user_task_is_projected_with_group_form_and_sla_due_time(engine: EngineHarness) -> None:
    execution = _complaint(engine)
    assert execution.status == "waiting"
    [task] = execution.human_tasks()
    assert (task.name, task.form_key, task.candidate_group, task.priority) == ("handle", "handle", "tier1-billing", 2)
    assert task.due_at == engine.now + timedelta(hours=2)
    assert [(name, due) for _id, name, due in execution.timers()] == [("sla", engine.now + timedelta(hours=2))]


def test_completing_a_task_validates_the_form_by_field(engine: EngineHarness) -> None:
    execution = engine.reload(_complaint(engine), actor="xiaowang")
    [task] = execution.human_tasks()
    with pytest.raises(EngineError) as caught:
        execution.complete_task(task.task_id, {"outcome": "shout", "extra": 1}, actor="xiaowang")
    assert caught.value.kind == "invalid"
    assert caught.value.fields["outcome"].startswith("'shout' is not one of")
    assert caught.value.fields["reply"] == "this field is required"
    assert caught.value.fields["extra"].startswith("unknown field; send ")
    execution.complete_task(task.task_id, {"outcome": "reply", "reply": "已为您补发"}, actor="xiaowang")
    assert execution.status == "completed"
    assert [e.actor for e in execution.events if e.type == "task.submitted"] == ["xiaowang"]


def test_a_completed_task_cannot_be_completed_again(engine: EngineHarness) -> None:
    execution = _complaint(engine)
    [task] = execution.human_tasks()
    execution.complete_task(task.task_id, {"outcome": "reply", "reply": "好的"}, actor="a")
    with pytest.raises(EngineError, match="no longer open") as caught:
        execution.complete_task(task.task_id, {"outcome": "reply", "reply": "好的"}, actor="b")
    assert caught.value.kind == "task_closed"


def test_boundary_timer_fires_on_the_engine_clock_not_the_wall_clock(engine: EngineHarness) -> None:
    execution = _complaint(engine)
    engine.now += timedelta(hours=1, minutes=59)
    execution = engine.reload(execution)
    assert execution.fire_timers() == []
    engine.now += timedelta(minutes=2)
    execution = engine.reload(execution)
    assert execution.fire_timers() == ["sla"]
    assert [t.name for t in execution.human_tasks()] == ["escalate"]
    assert "task.cancelled:handle" in event_types(execution)
    assert event_types(execution)[0] == "timer.fired:sla"


def _service_process(boundary: bool) -> str:
    catch = """<bpmn:boundaryEvent id="failed" attachedToRef="call"><bpmn:outgoing>f_err</bpmn:outgoing>
      <bpmn:errorEventDefinition errorRef="gateway_down" /></bpmn:boundaryEvent>
      <bpmn:sequenceFlow id="f_err" sourceRef="failed" targetRef="end_err" />
      <bpmn:endEvent id="end_err"><bpmn:incoming>f_err</bpmn:incoming></bpmn:endEvent>""" if boundary else ""
    body = f"""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call" />
      <bpmn:serviceTask id="call" name="Call gateway"><bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="flaky" resultVariable="answer"><spiffworkflow:parameters>
          <spiffworkflow:parameter id="n" type="int" value="n" /></spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
        <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
      <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e" />
      <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>{catch}"""
    errors = '<bpmn:error id="gateway_down" errorCode="gateway_down" />' if boundary else ""
    return xml_process(body).replace("</bpmn:definitions>", f"{errors}</bpmn:definitions>")


def test_service_failure_is_caught_by_an_error_boundary_event(engine: EngineHarness) -> None:
    def flaky(call):  # type: ignore[no-untyped-def]
        raise ServiceError("gateway answered 503", code="gateway_down")
    engine.operators.register("flaky", flaky)
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _service_process(True)}), "p", {"n": 1})
    assert execution.status == "completed"
    assert "task.completed:end_err" in event_types(execution)
    failed = next(e for e in execution.events if e.type == "service.failed")
    assert failed.payload["message"] == "gateway answered 503"


def test_service_crash_without_boundary_becomes_a_retryable_incident(engine: EngineHarness) -> None:
    """3.2.0's own call_service turns any error into NameError; ours names the real cause."""
    calls = []

    def flaky(call):  # type: ignore[no-untyped-def]
        calls.append(call.idempotency_key)
        if len(calls) == 1:
            raise KeyError("order_id")
        return {"ok": True}
    engine.operators.register("flaky", flaky)
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _service_process(False)}), "p", {"n": 1})
    assert execution.status == "error"
    assert execution.error_message == "Call gateway: KeyError: 'order_id'"
    execution = engine.reload(execution)
    execution.retry()
    assert execution.status == "completed" and execution.data["answer"] == {"ok": True}
    assert calls[0] == calls[1]  # the retry reuses the idempotency key


def test_asynchronous_operator_waits_for_its_job_and_then_continues(engine: EngineHarness) -> None:
    engine.operators.register("flaky", lambda call: {"never": "called inline"}, asynchronous=True)
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _service_process(False)}), "p", {"n": 7})
    assert execution.status == "waiting"
    [call] = execution.async_calls
    assert (call.operator, call.params) == ("flaky", {"n": 7})
    execution = engine.reload(execution)
    execution.settle_async(call.task_id, result={"paid": True})
    assert execution.status == "completed" and execution.data["answer"] == {"paid": True}
    with pytest.raises(EngineError, match="already settled"):
        execution.settle_async(call.task_id, result={"paid": True})


def test_unknown_operator_is_an_incident_not_a_crash(engine: EngineHarness) -> None:
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _service_process(False)}), "p", {"n": 1})
    assert execution.status == "error"
    assert "unknown service operator 'flaky'" in execution.error_message


def _gateway(condition: str) -> str:
    return xml_process(f"""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw" />
      <bpmn:exclusiveGateway id="gw" default="f_no"><bpmn:incoming>f1</bpmn:incoming>
        <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
      <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes">
        <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="no" />
      <bpmn:endEvent id="yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
      <bpmn:endEvent id="no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>""")


def test_unset_variable_in_a_gateway_is_an_incident_that_names_it(engine: EngineHarness) -> None:
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _gateway("amount &lt; 50")}), "p", {})
    assert execution.status == "error"
    assert "amount" in execution.error_message
    assert execution.events[-1].type == "incident.raised"


def test_decimal_and_date_survive_a_save(engine: EngineHarness) -> None:
    data = {"amount": Decimal("25.80"), "ordered_on": date(2026, 1, 2)}
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _gateway("amount &lt; 50")}), "p", data)
    assert execution.status == "completed"
    restored = engine.reload(execution)
    assert restored.data["amount"] == Decimal("25.80") and restored.data["ordered_on"] == date(2026, 1, 2)
    assert "task.completed:yes" in event_types(execution)


def _two_user_tasks() -> str:
    return xml_process("""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="first" />
      <bpmn:userTask id="first"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
      <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="mutate" />
      <bpmn:scriptTask id="mutate"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
        <bpmn:script>order["status"] = "changed"</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="f3" sourceRef="mutate" targetRef="second" />
      <bpmn:userTask id="second"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
      <bpmn:sequenceFlow id="f4" sourceRef="second" targetRef="e" />
      <bpmn:endEvent id="e"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>""")


def test_nested_data_changed_later_does_not_rewrite_earlier_steps(engine: EngineHarness) -> None:
    """3.2.0 shallow-copies task data: an in-place nested change leaks into earlier tasks."""
    execution = engine.start(build_bundle({"bpmn/p.bpmn": _two_user_tasks()}), "p",
                             {"order": {"status": "new"}})
    [first] = execution.human_tasks()
    execution.complete_task(first.task_id, {}, actor="a")
    first_task = execution.workflow.get_task_from_id(__import__("uuid").UUID(first.task_id))
    assert first_task.data["order"] == {"status": "new"}
    assert execution.human_tasks()[0].name == "second"
    assert execution.data["order"] == {"status": "changed"}


def _decision(policy: str) -> str:
    rows = "".join(f"""<rule id="r{i}"><description>row {i}</description><inputEntry id="i{i}"><text>{cell}</text></inputEntry>
        <outputEntry id="o{i}"><text>"{out}"</text></outputEntry></rule>"""
                   for i, (cell, out) in enumerate([("&lt; 100", "small"), ("&lt; 1000", "medium"),
                                                    ("-", "any")], start=1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="t" namespace="http://kesu.example/t">
  <decision id="size" name="Size"><decisionTable id="size_table" hitPolicy="{policy}">
    <input id="in1" label="Amount"><inputExpression id="ie1" typeRef="number"><text>amount</text></inputExpression></input>
    <output id="out1" name="size" typeRef="string" />{rows}</decisionTable></decision></definitions>"""


@pytest.mark.parametrize(("policy", "amount", "expected"), [
    ("FIRST", 50, "small"), ("FIRST", 500, "medium"), ("FIRST", 5000, "any"),
    ("COLLECT", 50, ["small", "medium", "any"]), ("RULE ORDER", 500, ["medium", "any"]),
])
def test_decision_hit_policies_mean_what_they_say(engine: EngineHarness, policy: str, amount: int,
                                                  expected: object) -> None:
    """3.2.0 evaluates every row for FIRST and returns the first; FIRST must stop at the first."""
    bundle = build_bundle({"bpmn/p.bpmn": rule_process(), "rules/size.dmn": _decision(policy)})
    execution = engine.start(bundle, "p", {"amount": amount})
    assert execution.data["size"] == expected
    decision = next(e for e in execution.events if e.type == "decision.evaluated")
    assert decision.payload["hit_policy"] == policy


def test_first_does_not_evaluate_rows_after_the_match(engine: EngineHarness) -> None:
    broken = _decision("FIRST").replace("<text>-</text>", "<text>&lt; undefined_limit</text>")
    bundle = build_bundle({"bpmn/p.bpmn": rule_process(), "rules/size.dmn": broken})
    assert engine.start(bundle, "p", {"amount": 50}).data["size"] == "small"


def test_unique_refuses_overlapping_rows(engine: EngineHarness) -> None:
    bundle = build_bundle({"bpmn/p.bpmn": rule_process(), "rules/size.dmn": _decision("UNIQUE")})
    execution = engine.start(bundle, "p", {"amount": 50})
    assert execution.status == "error"
    assert "rows 1, 2, 3 all match" in execution.error_message


def _loop(limit: int) -> str:
    return xml_process(f"""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="count" />
      <bpmn:scriptTask id="count"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming>
        <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="gw" />
      <bpmn:exclusiveGateway id="gw" default="f_done"><bpmn:incoming>f2</bpmn:incoming>
        <bpmn:outgoing>f_again</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing></bpmn:exclusiveGateway>
      <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="count">
        <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">i &lt; {limit}</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="e" />
      <bpmn:endEvent id="e"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>""")


def test_a_loop_too_deep_for_spiffworkflow_is_an_incident_not_a_silent_stall(engine: EngineHarness) -> None:
    """Past ~330 iterations 3.2.0 stops seeing the READY task and reports the instance completed."""
    small = engine.start(build_bundle({"bpmn/p.bpmn": _loop(10)}), "p", {"i": 0})
    assert small.status == "completed" and small.data["i"] == 10
    deep = engine.start(build_bundle({"bpmn/p.bpmn": _loop(400)}), "p", {"i": 0}, max_tasks=300)
    assert deep.status == "error"
    assert "more than the limit of 300" in deep.error_message


def test_a_correlated_message_reaches_its_waiting_catch_event(engine: EngineHarness) -> None:
    bundle = build_bundle({"bpmn/m.bpmn": message_process()})
    execution = engine.start(bundle, "p", {"refund_id": "R-9"})
    [(task_id, name, key)] = execution.message_waits()
    assert (name, key) == ("refund_result", "refund_id=R-9")
    execution = engine.reload(execution)
    with pytest.raises(EngineError, match="not waiting for message 'other'"):
        execution.deliver_message("other", {})
    execution.deliver_message("refund_result", {"refund_id": "R-9", "state": "succeeded"})
    assert execution.status == "completed"
    assert execution.data["result"] == {"refund_id": "R-9", "state": "succeeded"}


def test_four_eyes_rule_is_enforced_by_the_engine(engine: EngineHarness) -> None:
    approve = xml_process("""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="approve" />
      <bpmn:userTask id="approve" name="Approve refund"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="fourEyesVariable" value="requested_by" /></spiffworkflow:properties>
        </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
      <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="e" />
      <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""")
    execution = engine.start(build_bundle({"bpmn/a.bpmn": approve}), "p", {"requested_by": "xiaowang"})
    [task] = execution.human_tasks()
    with pytest.raises(EngineError, match="another person must approve it") as caught:
        execution.complete_task(task.task_id, {"approved": True}, actor="xiaowang")
    assert caught.value.kind == "forbidden"
    execution.complete_task(task.task_id, {"approved": True}, actor="zhuguan")
    assert execution.status == "completed"
