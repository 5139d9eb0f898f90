"""Kesu's versions of three SpiffWorkflow 3.2.0 behaviours that are wrong or fixed for us.

* Timers read the clock of the script engine (the command's "now"), not the wall clock,
  so tests and replay control time.
* Decision tables honour their hit policy: FIRST stops at the first matching row, UNIQUE
  refuses overlapping rows, ANY requires agreeing outputs, RULE ORDER collects; 3.2.0
  silently treats everything but COLLECT as "first of all rows evaluated".
* Service tasks call operators through the engine (sync or as a job) with every failure
  wrapped; 3.2.0's own error path raises ``NameError``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.spiff.specs.defaults import ServiceTask


def engine_now(my_task: Any) -> datetime:
    """Return the time of the command running this task (wall clock outside Kesu's engine)."""
    now = getattr(my_task.workflow.script_engine, "now", None)
    return now() if now is not None else datetime.now(timezone.utc)


class ClockTimeDateTimer(TimeDateEventDefinition):
    """A timeDate timer compared against the engine's clock."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            TimerEventDefinition.parse_time_or_duration(event_value)  # validate early
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= engine_now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockDurationTimer(DurationTimerEventDefinition):
    """A timeDuration timer whose due time is the engine's now plus the duration."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = engine_now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(str(expression))
            due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
            event_value = due.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockCycleTimer(CycleTimerEventDefinition):
    """A timeCycle timer (R<n>/<duration>) stepped by the engine's clock."""

    def cycle_complete(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = engine_now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _parse_cycle(str(expression), now)
            event_value = {"cycles": cycles, "next": start.isoformat(),
                           "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def _parse_cycle(expression: str, now: datetime) -> tuple[int, datetime, timedelta]:
    parts = expression.upper().strip("R").split("/")
    cycles = int(parts[0]) if parts[0] else -1
    if len(parts) != 2 or not parts[1].startswith("P"):
        # A cycle with an explicit start or end is absolute; SpiffWorkflow's parser handles it.
        return TimerEventDefinition.parse_iso_recurring_interval(expression)
    parsed = TimerEventDefinition.parse_iso_duration(parts[1])
    duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
    return cycles, now + duration, duration


_TIMER_CLASSES = {
    TimeDateEventDefinition: ClockTimeDateTimer,
    DurationTimerEventDefinition: ClockDurationTimer,
    CycleTimerEventDefinition: ClockCycleTimer,
}


def _clock_timer(definition: Any) -> Any:
    cls = _TIMER_CLASSES.get(type(definition))
    if cls is None:
        return definition
    clone = cls.__new__(cls)
    clone.__dict__.update(definition.__dict__)
    return clone


class KesuDMNEngine(DMNEngine):
    """A decision table evaluated by its declared hit policy, recording which rows matched."""

    SUPPORTED = ("UNIQUE", "FIRST", "ANY", "COLLECT", "RULE ORDER")

    def decide(self, task: Any) -> list[Any]:
        policy = (self.decision_table.hit_policy or "UNIQUE").upper()
        if policy not in self.SUPPORTED:
            raise WorkflowTaskException(
                f"decision table '{self.decision_table.name or self.decision_table.id}' uses hit "
                f"policy {policy}, which Kesu does not evaluate; use FIRST with rows in priority "
                f"order, or UNIQUE", task=task)
        matched = []
        for rule in self.decision_table.rules:
            if self._DMNEngine__check_rule(rule, task):
                matched.append(rule)
                if policy == "FIRST":
                    break
        if policy == "UNIQUE" and len(matched) > 1:
            rows = ", ".join(str(r.row_number) for r in matched)
            raise WorkflowTaskException(
                f"decision table '{self.decision_table.name}' has hit policy UNIQUE but rows "
                f"{rows} all match; make the rules exclusive or use FIRST", task=task)
        if policy == "ANY" and len({repr(r.output_as_dict(task)) for r in matched}) > 1:
            raise WorkflowTaskException(
                f"decision table '{self.decision_table.name}' has hit policy ANY but matching "
                f"rows give different outputs", task=task)
        return matched

    def result(self, task: Any) -> dict[str, Any]:
        matched = self.decide(task)
        policy = (self.decision_table.hit_policy or "UNIQUE").upper()
        result: dict[str, Any] = {}
        if policy in ("COLLECT", "RULE ORDER"):
            for rule in matched:
                for key, value in rule.output_as_dict(task).items():
                    result.setdefault(key, []).append(value)
        elif matched:
            result = dict(matched[0].output_as_dict(task))
        recorder = getattr(task.workflow.script_engine, "record_decision", None)
        if recorder is not None:
            recorder(task, self.decision_table, policy, matched, result)
        return result


class KesuServiceTask(ServiceTask):
    """A service task whose operator is run by the engine: inline, or later as a job."""

    def _execute(self, task: Any) -> bool | None:
        engine = task.workflow.script_engine
        params = {name: engine.evaluate(task, param["value"])
                  for name, param in self.operation_params.items()}
        run_service = getattr(engine, "run_service", None)
        if run_service is None:
            raise WorkflowTaskException("service tasks need Kesu's script engine", task=task)
        outcome = run_service(task, self.operation_name, params)
        if outcome is None:  # queued as a job, or failed and handed to the engine's error path
            return None
        task.data[self.result_variable] = outcome
        return True


def adapt_task_spec(task_spec: Any) -> None:
    """Swap in Kesu's clock-aware timers and hit-policy-correct decision engine."""
    definition = getattr(task_spec, "event_definition", None)
    if definition is not None:
        if hasattr(definition, "event_definitions"):  # MultipleEventDefinition
            definition.event_definitions = [_clock_timer(d) for d in definition.event_definitions]
        else:
            task_spec.event_definition = _clock_timer(definition)
    if isinstance(task_spec, BusinessRuleTaskMixin) and not isinstance(task_spec.dmnEngine, KesuDMNEngine):
        task_spec.dmnEngine = KesuDMNEngine(task_spec.dmnEngine.decision_table)
