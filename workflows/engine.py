"""Run commands against one process instance: start, complete a task, fire timers,
deliver messages, settle asynchronous service calls, retry incidents.

An ``Execution`` wraps one SpiffWorkflow instance for the length of one command. It never
touches a database: the caller loads the snapshot, runs the command, then stores
``dump()`` together with ``events`` and the projections (``human_tasks()``, ``timers()``,
``message_waits()``, ``async_calls``) in one transaction.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from workflows.definitions import SpecBundle
from workflows.forms import form_errors
from workflows.persistence import data_diff, dump_workflow, load_workflow, to_jsonable
from workflows.services import OperatorRegistry, ServiceCall, ServiceError

REPORTED_STATES = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.STARTED: "started",
                   TaskState.COMPLETED: "completed", TaskState.ERROR: "error",
                   TaskState.CANCELLED: "cancelled"}
PRIORITY_RANK = {"high": 1, "medium": 2, "low": 3}


class EngineError(Exception):
    """A command could not be applied; ``kind`` tells the caller how to answer."""

    def __init__(self, message: str, *, kind: str = "invalid", fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # not_found | conflict | task_closed | invalid | forbidden
        self.fields = fields or {}


@dataclass
class Event:
    """One entry for the instance's log, before it is hash-chained by the store."""

    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    task_name: str | None = None
    actor: str | None = None


@dataclass
class AsyncCall:
    """A service call to run as a job; the task waits in STARTED until it is settled."""

    task_id: str
    task_name: str
    operator: str
    params: dict[str, Any]
    idempotency_key: str
    retries: int


@dataclass
class HumanTaskView:
    task_id: str
    name: str
    title: str
    process_id: str
    form_key: str | None
    candidate_group: str | None
    priority: int
    due_at: datetime | None
    instructions: str | None
    summary: TaskSummary = field(default_factory=lambda: TaskSummary())


@dataclass(frozen=True)
class TaskSummary:
    """What task lists show of a task's data (denormalised onto the task projection)."""

    category: str | None = None
    emotion: str | None = None
    order_amount: float | None = None
    customer: str | None = None
    complaint_ref: str | None = None
    requested_by: str | None = None  # the four-eyes requester, when the task has that rule

    @classmethod
    def of(cls, data: dict[str, Any], four_eyes_variable: str | None) -> TaskSummary:
        amount = data.get("amount_paid")
        return cls(_text(data.get("category")), _text(data.get("emotion")),
                   float(amount) if isinstance(amount, (int, float)) else None,
                   _text(data.get("customer_name") or data.get("customer_id")), _text(data.get("complaint_id")),
                   _text(data.get(four_eyes_variable)) if four_eyes_variable else None)


def _text(value: Any) -> str | None:
    return str(value)[:120] if value not in (None, "") else None


@dataclass
class CommandContext:
    """What a command is given from outside: the time, who acts, and recorded answers for replay."""

    now: datetime
    actor: str | None = None
    instance_id: int | None = None
    recorded_services: dict[str, list[dict[str, Any]]] | None = None  # replay: no real calls


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Expressions through the restricted evaluator; scripts in the restricted worker pool."""

    def __init__(self, evaluator: Any, script_runner: Any) -> None:
        super().__init__({})
        self.evaluator = evaluator
        self.script_runner = script_runner

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        names = {**context, **external_context} if external_context else context
        return self.evaluator.evaluate(expression, names)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        names = {**context, **external_context} if external_context else dict(context)
        result = self.script_runner.run(script, names)
        for name in external_context or {}:  # data objects are read, not copied into task data
            if name not in context and result.get(name) == external_context[name]:
                result.pop(name, None)
        context.clear()
        context.update(result)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        raise WorkflowException("service tasks run through Kesu's operators, not the environment")


class KesuScriptEngine(PythonScriptEngine):
    """The engine of one command: sandboxed, clocked, recording service calls and decisions."""

    def __init__(self, environment: SandboxEnvironment, operators: OperatorRegistry,
                 context: CommandContext, execution: Execution) -> None:
        super().__init__(environment)
        self.operators = operators
        self.context = context
        self.execution = execution

    def now(self) -> datetime:
        return self.context.now

    def call_service(self, task: Any, **kwargs: Any) -> str:
        raise WorkflowException("service tasks run through Kesu's operators")

    def record_decision(self, task: Any, table: Any, policy: str, matched: list[Any],
                        result: dict[str, Any]) -> None:
        rows = [{"row": r.row_number, "rule_id": r.id, "description": r.description} for r in matched]
        self.execution.emit(Event("decision.evaluated", {
            "decision": table.id, "name": table.name, "hit_policy": policy, "matched": rows,
            "output": to_jsonable(result)}, str(task.id), task.task_spec.name))

    def run_service(self, task: Any, operator_name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Run an operator now, queue it as a job, or record its failure for the error path."""
        execution, ctx = self.execution, self.context
        params = to_jsonable(params)
        key = f"svc:{ctx.instance_id}:{task.id}"
        try:
            operator = self.operators.get(operator_name)
        except ServiceError as error:
            execution.service_failed(task, error)
            return None
        if operator.asynchronous:
            execution.async_calls.append(AsyncCall(str(task.id), task.task_spec.name, operator_name,
                                                   params, key, operator.retries))
            execution.emit(Event("service.queued", {"operator": operator_name, "params": params,
                                                    "idempotency_key": key}, str(task.id), task.task_spec.name))
            return None
        call = ServiceCall(operator_name, copy.deepcopy(params), ctx.instance_id, str(task.id), key, ctx.now)
        try:
            result = execution.call_operator(operator, call, task)
        except ServiceError as error:
            execution.service_failed(task, error, params=params)
            return None
        execution.emit(Event("service.called", {"operator": operator_name, "params": params,
                                                "result": to_jsonable(result)}, str(task.id), task.task_spec.name))
        return result


class Execution:
    """One command's hold on one instance."""

    def __init__(self, workflow: BpmnWorkflow, bundle: SpecBundle, process_id: str,
                 context: CommandContext, *, operators: OperatorRegistry,
                 environment: SandboxEnvironment, max_tasks: int = 900) -> None:
        self.workflow = workflow
        self.bundle = bundle
        self.process_id = process_id
        self.context = context
        self.max_tasks = max_tasks
        self.events: list[Event] = []
        self.async_calls: list[AsyncCall] = []
        self.error_message: str | None = None
        self._failures: list[tuple[Any, ServiceError]] = []
        self._service_counts: dict[str, int] = {}
        self._baseline: dict[UUID, TaskState] | None = None
        workflow.script_engine = KesuScriptEngine(environment, operators, context, self)

    # ----------------------------------------------------------------- construction
    @classmethod
    def start(cls, bundle: SpecBundle, process_id: str, data: dict[str, Any],
              context: CommandContext, **kwargs: Any) -> Execution:
        """Create a new instance of ``process_id`` with start data and run it until it waits."""
        spec, subprocess_specs = bundle.spec_for(process_id)
        execution = cls(BpmnWorkflow(spec, subprocess_specs), bundle, process_id, context, **kwargs)
        start = execution.workflow.get_next_task(state=TaskState.READY)
        start.data.update(copy.deepcopy(data))
        execution.emit(Event("instance.started", {"process_id": process_id, "data": to_jsonable(data),
                                                  "version_hash": bundle.content_hash},
                             actor=context.actor))
        execution._run(execution._advance)
        return execution

    @classmethod
    def load(cls, bundle: SpecBundle, process_id: str, snapshot: str, context: CommandContext,
             **kwargs: Any) -> Execution:
        """Re-attach a stored snapshot to its version's spec."""
        spec, subprocess_specs = bundle.spec_for(process_id)
        return cls(load_workflow(snapshot, spec, subprocess_specs), bundle, process_id, context, **kwargs)

    # ----------------------------------------------------------------- commands
    def complete_task(self, task_id: str, data: dict[str, Any], *, actor: str | None) -> None:
        """Complete a ready user task with form data validated against its JSON Schema."""
        task = self._task(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineError(f"task '{task.task_spec.bpmn_name or task.task_spec.name}' is no longer "
                              f"open (it is {REPORTED_STATES.get(task.state, 'not ready')})", kind="task_closed")
        self._check_four_eyes(task, actor)
        schema = self.bundle.forms.get(self._form_key(task) or "")
        if schema is not None:
            errors = form_errors(schema, data)
            if errors:
                raise EngineError("the form has errors; correct the fields listed and submit again",
                                  kind="invalid", fields=errors)
        self.emit(Event("task.submitted", {"data": to_jsonable(data)}, str(task.id), task.task_spec.name,
                        actor=actor))

        def run() -> None:
            task.data.update(copy.deepcopy(data))
            actor_variable = self._properties(task).get("actorVariable")
            if actor_variable:  # who completed it, from the session, never from the form
                task.data[actor_variable] = actor
            task.run()
            self._advance()
        self._run(run)

    def fire_timers(self) -> list[str]:
        """Fire the timers due at the command's time; return the names of those that fired."""
        due = [(tid, name, at) for tid, name, at in self.timers() if at <= self.context.now]
        for tid, name, at in due:
            self.emit(Event("timer.fired", {"due_at": at.isoformat()}, tid, name))
        self._run(self._fire_and_advance)
        return [name for _tid, name, _at in due]

    def deliver_message(self, name: str, payload: dict[str, Any]) -> None:
        """Hand a message to the task of this instance that waits for it."""
        waiting = [t for t in self._all_tasks() if t.state == TaskState.WAITING
                   and isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition)
                   and t.task_spec.event_definition.name == name]
        if not waiting:
            raise EngineError(f"this instance is not waiting for message '{name}'", kind="not_found")
        definition = waiting[0].task_spec.event_definition
        engine = self.workflow.script_engine
        correlations = definition.calculate_correlations(engine, definition.correlation_properties, payload)
        self.emit(Event("message.delivered", {"name": name, "payload": to_jsonable(payload)},
                        str(waiting[0].id), waiting[0].task_spec.name, actor=self.context.actor))

        def run() -> None:
            try:
                self.workflow.send_event(BpmnEvent(definition, copy.deepcopy(payload), correlations))
            except WorkflowException as exc:
                raise EngineError(str(exc), kind="conflict") from exc
            self._advance()
        self._run(run)

    def settle_async(self, task_id: str, *, result: dict[str, Any] | None = None,
                     error: ServiceError | None = None) -> None:
        """Finish a queued service call with its result, or send its failure down the error path."""
        task = self._task(task_id)
        if task.state != TaskState.STARTED:
            raise EngineError("this service call was already settled", kind="conflict")

        def run() -> None:
            if error is not None:
                self.service_failed(task, error)
            else:
                self.emit(Event("service.called", {"operator": task.task_spec.operation_name,
                                                   "result": to_jsonable(result)}, task_id, task.task_spec.name))
                task.data[task.task_spec.result_variable] = copy.deepcopy(result)
                task.complete()
            self._advance()
        self._run(run)

    def retry(self) -> None:
        """Re-run every task in ERROR from where it failed."""
        failed = [t for t in self._all_tasks() if t.state == TaskState.ERROR]
        if not failed:
            raise EngineError("there is no failed step to retry", kind="conflict")
        for task in failed:
            self.emit(Event("incident.retried", {}, str(task.id), task.task_spec.name, actor=self.context.actor))

        def run() -> None:
            for task in failed:
                task.workflow.reset_from_task_id(task.id)
            self._advance()
        self._run(run)

    # ----------------------------------------------------------------- reading
    @property
    def status(self) -> str:
        if self.error_message or any(t.state == TaskState.ERROR for t in self._all_tasks()):
            return "error"
        if self.workflow.is_completed():
            return "completed"
        return "waiting"

    @property
    def data(self) -> dict[str, Any]:
        """The data of the latest completed task (the workflow's data once it has ended)."""
        if self.workflow.is_completed():
            return self.workflow.data
        last = self.workflow.last_task
        return last.data if last is not None else {}

    def task_data(self, task_id: str) -> dict[str, Any]:
        """Return the data a task of this instance sees (a user task's form is filled from it)."""
        return self._task(task_id).data

    def task_state(self, task_id: str) -> str | None:
        """Return the reported state name of a task of this instance (None if unknown)."""
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (KeyError, ValueError):
            return None
        return REPORTED_STATES.get(task.state) if task is not None else None

    def dump(self) -> str:
        return dump_workflow(self.workflow)

    def human_tasks(self) -> list[HumanTaskView]:
        """Return the user tasks ready for a person, with what task lists show of them."""
        views = []
        for task in self._all_tasks():
            if task.state != TaskState.READY or not task.task_spec.manual:
                continue
            spec = task.task_spec
            props = self._properties(task)
            views.append(HumanTaskView(
                str(task.id), spec.name, spec.bpmn_name or spec.name, task.workflow.spec.name,
                self._form_key(task), self._candidate_group(task, props),
                PRIORITY_RANK.get(str(task.data.get("priority", "medium")), 2), self._due_at(task),
                (spec.extensions or {}).get("instructionsForEndUser") if hasattr(spec, "extensions") else None,
                TaskSummary.of(task.data, props.get("fourEyesVariable"))))
        return views

    def timers(self) -> list[tuple[str, str, datetime]]:
        """Return (task id, task name, due time) of every waiting timer."""
        result = []
        for task in self._waiting_timer_tasks():
            due = _timer_due(task)
            if due is not None:
                result.append((str(task.id), task.task_spec.name, due))
        return result

    def message_waits(self) -> list[tuple[str, str, str]]:
        """Return (task id, message name, correlation key) of every waiting message catch."""
        result = []
        engine = self.workflow.script_engine
        for task in self._all_tasks():
            definition = getattr(task.task_spec, "event_definition", None)
            if task.state == TaskState.WAITING and isinstance(definition, MessageEventDefinition):
                correlations = dict(task.workflow.correlations)
                expected = getattr(definition, "process_correlations", None)
                if expected:
                    correlations.update(definition.calculate_correlations(engine, expected, task.data))
                result.append((str(task.id), definition.name, correlation_key(correlations)))
        return result

    # ----------------------------------------------------------------- internals
    def emit(self, event: Event) -> None:
        """Append an event, after the state changes that happened before it."""
        if self._baseline is not None:
            self._flush_changes()
        self.events.append(event)

    def call_operator(self, operator: Any, call: ServiceCall, task: Any) -> dict[str, Any]:
        """Call a handler, or answer from the recorded log when replaying."""
        recorded = self.context.recorded_services
        if recorded is not None:
            answers = recorded.get(task.task_spec.name, [])
            index = self._service_counts.get(task.task_spec.name, 0)
            self._service_counts[task.task_spec.name] = index + 1
            if index >= len(answers):
                raise ServiceError(f"replay has no recorded answer for {task.task_spec.name} #{index + 1}")
            answer = answers[index]
            if "error" in answer:
                raise ServiceError(answer["error"]["message"], code=answer["error"]["code"],
                                   retryable=bool(answer["error"].get("retryable", False)))
            return copy.deepcopy(answer["result"])
        try:
            result = operator.handler(call)
        except ServiceError:
            raise
        except Exception as exc:  # any handler bug becomes a clean, recorded failure
            raise ServiceError(f"{type(exc).__name__}: {exc}", retryable=False) from exc
        if not isinstance(result, dict):
            raise ServiceError(f"operator '{operator.name}' returned {type(result).__name__}, not a dict")
        return result

    def service_failed(self, task: Any, error: ServiceError, params: dict[str, Any] | None = None) -> None:
        self.emit(Event("service.failed", {"operator": getattr(task.task_spec, "operation_name", None),
                                           "params": params, "code": error.code, "message": error.message},
                        str(task.id), task.task_spec.name))
        self._failures.append((task, error))

    def _run(self, command: Callable[[], None]) -> None:
        self._baseline = self._snapshot()
        try:
            command()
        except EngineError:
            raise
        except SpiffWorkflowException as exc:
            self._incident(exc)
        finally:
            if self._baseline is not None:
                self._flush_changes()
            self._baseline = None

    def _fire_and_advance(self) -> None:
        # do_engine_steps refreshes timers only at its end, so a due timer must be fired first
        self.workflow.refresh_timers()
        self._advance()

    def _advance(self) -> None:
        self.workflow.do_engine_steps()
        while self._failures:
            failures, self._failures = self._failures, []
            for task, error in failures:
                self._throw_or_fail(task, error)
            self.workflow.do_engine_steps()
        self._check_stall()

    def _throw_or_fail(self, task: Any, error: ServiceError) -> None:
        """Throw the failure as a BPMN error if a boundary event catches its code, else raise an incident."""
        payload = {"code": error.code, "message": error.message}
        for catcher in list(self.workflow.event_manager.tasks.values()):
            definition = catcher.task_spec.event_definition
            if isinstance(definition, ErrorEventDefinition) and definition.code in (None, error.code):
                thrown = type(definition)(error.code, code=error.code)
                event = BpmnEvent(thrown, payload, target=task.workflow)
                if definition.catches(catcher, event):
                    self.workflow.top_workflow.catch(event)
                    return
        task._set_state(TaskState.ERROR)
        self.error_message = f"{task.task_spec.bpmn_name or task.task_spec.name}: {error.message}"
        self.emit(Event("incident.raised", {"message": self.error_message, "code": error.code,
                                            "retryable": error.retryable}, str(task.id), task.task_spec.name))

    def _incident(self, exc: SpiffWorkflowException) -> None:
        task = getattr(exc, "task", None)
        message = str(exc).split("\n")[0]
        if task is not None:
            message = f"{task.task_spec.bpmn_name or task.task_spec.name}: {message}"
        self.error_message = message
        self.emit(Event("incident.raised", {"message": message},
                        str(task.id) if task is not None else None,
                        task.task_spec.name if task is not None else None))

    def _check_stall(self) -> None:
        tasks = self._all_tasks()
        if len(tasks) > self.max_tasks:
            raise _StallError(f"the instance has {len(tasks)} steps, more than the limit of "
                              f"{self.max_tasks}; a loop probably runs too often. Move the rework "
                              f"loop into a call activity or raise KESU_MAX_TASKS_PER_INSTANCE")
        stuck = [t for t in tasks if t.state == TaskState.READY and not t.task_spec.manual]
        if stuck:
            raise _StallError(f"step '{stuck[0].task_spec.name}' is ready but the engine no longer "
                              f"sees it (task tree deeper than SpiffWorkflow's limit)")

    def _snapshot(self) -> dict[UUID, TaskState]:
        return {t.id: t.state for t in self._all_tasks()}

    def _flush_changes(self) -> None:
        """Emit an event for every task whose state changed since the last flush."""
        before, after = self._baseline or {}, self._snapshot()
        self._baseline = None  # emit() below must not recurse into flushing
        changed = [t for t in self._all_tasks()
                   if t.state in REPORTED_STATES and before.get(t.id) != t.state
                   and getattr(t.task_spec, "bpmn_id", None)]
        for task in sorted(changed, key=lambda t: t.last_state_change):
            payload: dict[str, Any] = {"state": REPORTED_STATES[task.state]}
            if task.task_spec.bpmn_name:
                payload["title"] = task.task_spec.bpmn_name
            if task.state == TaskState.COMPLETED and task.parent is not None:
                diff = data_diff(task.parent.data, task.data)
                if diff:
                    payload["data"] = diff
            self.events.append(Event(f"task.{REPORTED_STATES[task.state]}", payload, str(task.id),
                                     task.task_spec.name))
        self._baseline = after

    def _all_tasks(self) -> list[Any]:
        tasks = list(self.workflow.tasks.values())
        for sub in self.workflow.subprocesses.values():
            tasks.extend(sub.tasks.values())
        return tasks

    def _task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TypeError, KeyError):
            task = None
        if task is None:
            raise EngineError(f"task {task_id} is not part of this instance", kind="not_found")
        return task

    def _waiting_timer_tasks(self) -> list[Any]:
        return [t for t in self._all_tasks() if t.state == TaskState.WAITING
                and isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)]

    def _properties(self, task: Any) -> dict[str, str]:
        extensions = getattr(task.task_spec, "extensions", None) or {}
        return extensions.get("properties", {}) or {}

    def _form_key(self, task: Any) -> str | None:
        props = self._properties(task)
        key = props.get("formKey") or props.get("formJsonSchemaFilename")
        if not key:
            return None
        return key.rsplit("/", 1)[-1].removesuffix(".json").removesuffix("-schema")

    def _candidate_group(self, task: Any, props: dict[str, str]) -> str | None:
        if props.get("candidateGroupsExpression"):
            value = self.workflow.script_engine.evaluate(task, props["candidateGroupsExpression"])
            return str(value) if value else None
        return props.get("candidateGroups") or task.task_spec.lane

    def _due_at(self, task: Any) -> datetime | None:
        siblings = task.parent.children if task.parent is not None else []
        dues = [_timer_due(s) for s in siblings if s is not task and s.state == TaskState.WAITING
                and isinstance(getattr(s.task_spec, "event_definition", None), TimerEventDefinition)]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None

    def _check_four_eyes(self, task: Any, actor: str | None) -> None:
        variable = self._properties(task).get("fourEyesVariable")
        if variable and actor is not None and task.data.get(variable) == actor:
            raise EngineError(f"you asked for this yourself ({variable} = {actor}); under the four-eyes "
                              f"rule another person must approve it", kind="forbidden")


class _StallError(SpiffWorkflowException):
    """The instance cannot progress although it is not finished (raised as an incident)."""


def _timer_due(task: Any) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    if not value:
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except (TypeError, ValueError):
        return None


def correlation_key(correlations: dict[str, Any]) -> str:
    """Flatten {key: {property: value}} into a stable lookup string ("order_id=42")."""
    pairs = sorted(f"{prop}={value}" for props in correlations.values() for prop, value in props.items())
    return "&".join(pairs)
