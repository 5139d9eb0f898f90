"""Replay an instance from its pinned version and its recorded inputs, and compare.

The recorded event stream is both the input and the expected output. Walking it in
order, each *input* event (the start, a task submission, a timer firing, a message, an
asynchronous service settlement, a retry) is re-applied as the command that produced
it, on a freshly loaded snapshot, with the clock at the event's time and synchronous
service answers read from the log (never called). The events the command emits must
equal the recorded ones that follow, one by one; admin events (cancel, suspend, resume)
are taken as recorded. An ``instance.migrated`` event moves the replayed instance to the version
it names, as the studio's migration did (unchanged timers keep their due time). At the end the
task tree and data are compared with the stored snapshot. SpiffWorkflow gives tasks random ids, so recorded and replayed ids are paired
as they first appear and must stay paired.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.util.task import TaskState

from workflows.definitions import SpecBundle
from workflows.engine import CommandContext, EngineError, Event, Execution
from workflows.migration import MigrationRefused, migrate
from workflows.persistence import canonical_json, dump_workflow, to_jsonable
from workflows.services import Operator, OperatorRegistry, ServiceCall, ServiceError

ADMIN_EVENTS = {"instance.cancelled", "instance.suspended", "instance.resumed"}
FINAL_STATUSES = ("completed", "error")


@dataclass(frozen=True)
class RecordedEvent:
    """One stored event, as replay reads it."""

    seq: int
    event_type: str
    task_id: str | None
    task_name: str | None
    actor: str | None
    occurred_at: datetime
    payload: dict[str, Any]

    def label(self) -> str:
        return f"{self.event_type}:{self.task_name}" if self.task_name else self.event_type


@dataclass
class ReplayReport:
    """"identical", or the first step (recorded seq) where the replay went another way."""

    identical: bool
    steps: int
    seq: int | None = None
    difference: str | None = None

    def describe(self) -> str:
        if self.identical:
            return f"identical: {self.steps} events and the final state reproduced"
        where = f"step {self.seq}" if self.seq is not None else "final state"
        return f"DIFFERENT at {where}: {self.difference}"


class Difference(Exception):
    """The replay left the recorded path."""

    def __init__(self, seq: int | None, message: str) -> None:
        super().__init__(message)
        self.seq, self.message = seq, message


def _never_called(call: ServiceCall) -> dict[str, Any]:
    raise ServiceError(f"replay must not call operator '{call.operator}'", code="replay")


def replay_operators(events: list[RecordedEvent]) -> OperatorRegistry:
    """Stand-in operators: asynchronous where the log shows a queued call; handlers never run."""
    queued = {e.payload.get("operator") for e in events if e.event_type == "service.queued"}
    called = {e.payload.get("operator") for e in events if e.event_type in ("service.called", "service.failed")}
    registry = OperatorRegistry()
    for name in sorted(n for n in queued | called if n):
        registry._operators[name] = Operator(name, _never_called, asynchronous=name in queued)
    return registry


def recorded_answers(events: list[RecordedEvent]) -> dict[str, list[dict[str, Any]]]:
    """Synchronous service answers by task spec name, in order (results and failures)."""
    answers: dict[str, list[dict[str, Any]]] = {}
    for index, event in enumerate(events):
        if event.event_type == "service.called" and "params" in event.payload:
            answers.setdefault(event.task_name or "", []).append({"result": event.payload.get("result")})
        elif event.event_type == "service.failed" and event.payload.get("params") is not None:
            error = {"code": event.payload.get("code"), "message": event.payload.get("message"),
                     "retryable": _retryable_after(events, index)}
            answers.setdefault(event.task_name or "", []).append({"error": error})
    return answers


def _retryable_after(events: list[RecordedEvent], index: int) -> bool:
    """Whether the incident a failure raised was retryable (False when none followed)."""
    failed = events[index]
    for event in events[index + 1:]:
        if event.event_type == "incident.raised" and event.task_id == failed.task_id:
            return bool(event.payload.get("retryable", False))
        if event.occurred_at != failed.occurred_at:
            break
    return False


@dataclass
class _Replayer:
    bundle: SpecBundle
    process_id: str
    events: list[RecordedEvent]
    instance_id: int | None
    options: dict[str, Any]
    bundles: Callable[[str], SpecBundle] | None = None  # a version's specs by content hash (migrations)
    ids: dict[str, str] = field(default_factory=dict)  # recorded task id -> replayed task id
    status: str = "running"
    snapshot: str | None = None
    position: int = 0
    consumed: dict[str, int] = field(default_factory=dict)

    def run(self) -> str | None:
        """Apply every recorded input; return the replayed snapshot."""
        recorded = self.options.pop("recorded_services")
        self.recorded = recorded
        first = self.events[0] if self.events else None
        if first is None or first.event_type != "instance.started":
            raise Difference(first.seq if first else None, "the history does not begin with instance.started")
        pinned, current = first.payload.get("version_hash"), self.bundle.content_hash
        migrations = [e for e in self.events if e.event_type == "instance.migrated"]
        if pinned != current and migrations and self.bundles is not None:
            if migrations[-1].payload.get("content_hash") != current:
                raise Difference(migrations[-1].seq, f"the last migration moved the instance to version "
                                                     f"{migrations[-1].payload.get('content_hash')}, but it is "
                                                     f"pinned to {current}")
            self.bundle = self._bundle(first, str(pinned))
        elif pinned != current:
            raise Difference(first.seq, f"the instance was started on version {pinned}, replaying on {current}")
        while self.position < len(self.events):
            self._step(self.events[self.position])
        return self.snapshot

    def _bundle(self, event: RecordedEvent, content_hash: str) -> SpecBundle:
        try:
            return self.bundles(content_hash)  # type: ignore[misc]
        except LookupError as error:
            raise Difference(event.seq, f"version {content_hash} is not deployed: {error}") from None

    def _context(self, event: RecordedEvent) -> CommandContext:
        remaining = {name: answers[self.consumed.get(name, 0):] for name, answers in self.recorded.items()}
        return CommandContext(now=event.occurred_at, actor=event.actor, instance_id=self.instance_id,
                              recorded_services=remaining)

    def _consume(self, produced: list[Event]) -> None:
        """Count the synchronous answers a command used (each Execution counts from zero)."""
        for event in produced:
            sync_call = event.type == "service.called" and "params" in event.payload
            if sync_call or (event.type == "service.failed" and event.payload.get("params") is not None):
                self.consumed[event.task_name or ""] = self.consumed.get(event.task_name or "", 0) + 1

    def _step(self, event: RecordedEvent) -> None:
        if event.event_type in ADMIN_EVENTS:
            self.status = str(event.payload.get("to", self.status))
            self.position += 1
            return
        if event.event_type == "instance.migrated":
            self._migrate(event)
            return
        command = self._command_for(event)
        context = self._context(event)
        if event.event_type == "instance.started":
            execution = self._guard(event, lambda: Execution.start(
                self.bundle, self.process_id, event.payload.get("data") or {}, context, **self.options))
        else:
            if self.snapshot is None:
                raise Difference(event.seq, f"{event.label()} came before the instance had any state")
            execution = Execution.load(self.bundle, self.process_id, self.snapshot, context, **self.options)
            self._guard(event, lambda: command(execution))
        self._settle(event, execution, context)

    def _migrate(self, event: RecordedEvent) -> None:
        """Move the replayed instance to the recorded version, then run what that made ready."""
        if self.snapshot is None or self.bundles is None:
            raise Difference(event.seq, f"{event.label()} cannot be replayed here")
        target = self._bundle(event, str(event.payload.get("content_hash")))
        try:
            moved = migrate(self.snapshot, self.bundle, target, self.process_id)
        except MigrationRefused as refused:
            raise Difference(event.seq, f"replay could not migrate the instance: {refused}") from None
        context = self._context(event)
        self.bundle = target
        execution = Execution.load(target, self.process_id, dump_workflow(moved), context, **self.options)
        execution.emit(Event("instance.migrated", dict(event.payload), actor=event.actor))
        self._guard(event, execution.fire_timers)
        self._settle(event, execution, context)

    def _settle(self, event: RecordedEvent, execution: Execution, context: CommandContext) -> None:
        if execution.status != self.status and execution.status in FINAL_STATUSES:
            payload = {"message": execution.error_message} if execution.error_message else {}
            execution.events.append(Event(f"instance.{execution.status}", payload))
        self.status = execution.status
        self.snapshot = execution.dump()
        self._consume(execution.events)
        if not execution.events:
            raise Difference(event.seq, f"the recorded input {event.label()} changed nothing on replay")
        self._compare(execution.events, context)

    def _guard(self, event: RecordedEvent, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except EngineError as error:
            raise Difference(event.seq, f"replay refused the recorded {event.label()}: {error.message}") from error

    def _command_for(self, event: RecordedEvent) -> Callable[[Execution], Any]:
        kind, payload = event.event_type, event.payload
        if kind == "task.submitted":
            task_id = self._replayed_id(event)
            return lambda ex: ex.complete_task(task_id, payload.get("data") or {}, actor=event.actor)
        if kind == "timer.fired":
            return lambda ex: ex.fire_timers()
        if kind == "message.delivered":
            return lambda ex: ex.deliver_message(payload["name"], payload.get("payload") or {})
        if kind == "incident.retried":
            return lambda ex: ex.retry()
        if kind == "service.called" and "params" not in payload:
            task_id = self._replayed_id(event)
            return lambda ex: ex.settle_async(task_id, result=payload.get("result"))
        if kind == "service.failed" and payload.get("params") is None:
            task_id = self._replayed_id(event)
            error = ServiceError(str(payload.get("message")), code=str(payload.get("code")),
                                 retryable=_retryable_after(self.events, self.position))
            return lambda ex: ex.settle_async(task_id, error=error)
        if kind == "instance.started":
            return lambda ex: None
        raise Difference(event.seq, f"the recorded {event.label()} was not produced by the replay")

    def _replayed_id(self, event: RecordedEvent) -> str:
        if event.task_id not in self.ids:
            raise Difference(event.seq, f"{event.label()} acts on task {event.task_id}, which the replay "
                                        f"never created")
        return self.ids[event.task_id]

    def _compare(self, produced: list[Event], context: CommandContext) -> None:
        for event in produced:
            if self.position >= len(self.events):
                raise Difference(None, f"the replay went further than the record: {_label(event)}")
            recorded = self.events[self.position]
            self._pair(recorded, event)
            problem = self._mismatch(recorded, event, context)
            if problem:
                raise Difference(recorded.seq, problem)
            self.position += 1

    def _pair(self, recorded: RecordedEvent, event: Event) -> None:
        if recorded.task_id and event.task_id and recorded.task_id not in self.ids:
            if event.task_id not in self.ids.values():
                self.ids[recorded.task_id] = event.task_id

    def _mismatch(self, recorded: RecordedEvent, event: Event, context: CommandContext) -> str | None:
        actor = event.actor or context.actor
        if (recorded.event_type, recorded.task_name) != (event.type, event.task_name):
            return f"recorded {recorded.label()}, replay produced {_label(event)}"
        if recorded.actor != actor:
            return f"{recorded.label()}: recorded actor {recorded.actor}, replay {actor}"
        if bool(recorded.task_id) != bool(event.task_id) or (
                recorded.task_id and self.ids.get(recorded.task_id) != event.task_id):
            return f"{recorded.label()} concerns another task instance on replay"
        replayed = self._restore_ids(canonical_json(to_jsonable(event.payload)))
        if replayed != canonical_json(recorded.payload):
            return f"{recorded.label()}: recorded {canonical_json(recorded.payload)}, replay {replayed}"
        return None

    def _restore_ids(self, text: str) -> str:
        for recorded_id, replayed_id in self.ids.items():
            text = text.replace(replayed_id, recorded_id)
        return text


def _label(event: Event) -> str:
    return f"{event.type}:{event.task_name}" if event.task_name else event.type


def task_shape(execution: Execution) -> list[tuple[str, str]]:
    """Task spec names and states in tree order, subprocesses inline."""
    top = execution.workflow
    shape: list[tuple[str, str]] = []

    def walk(task: Any) -> None:
        shape.append((task.task_spec.name, TaskState.get_name(task.state)))
        sub = top.subprocesses.get(task.id)
        if sub is not None:
            walk(sub.task_tree)
        for child in task.children:
            walk(child)
    walk(top.task_tree)
    return shape


def compare_final(replayed: Execution, stored: Execution) -> str | None:
    """Describe the first difference of task tree or data between two executions (None if equal)."""
    mine, theirs = task_shape(replayed), task_shape(stored)
    for index, (a, b) in enumerate(zip(mine, theirs)):
        if a != b:
            return f"task #{index + 1}: stored {b[0]} {b[1]}, replay {a[0]} {a[1]}"
    if len(mine) != len(theirs):
        return f"the stored state has {len(theirs)} tasks, the replay {len(mine)}"
    data_a, data_b = canonical_json(to_jsonable(replayed.data)), canonical_json(to_jsonable(stored.data))
    if data_a != data_b:
        return f"final data differs: stored {data_b}, replay {data_a}"
    return None


def replay(bundle: SpecBundle, process_id: str, events: list[RecordedEvent], *, instance_id: int | None,
           stored_state: str | None, environment: Any, max_tasks: int = 900,
           bundles: Callable[[str], SpecBundle] | None = None) -> ReplayReport:
    """Re-execute an instance from its recorded inputs and compare events and final state.

    ``bundle`` is the version the instance is pinned to now; ``bundles`` finds the versions an
    instance that was migrated ran on before (by content hash; LookupError when none has it).
    """
    options = {"operators": replay_operators(events), "environment": environment, "max_tasks": max_tasks,
               "recorded_services": recorded_answers(events)}
    replayer = _Replayer(bundle, process_id, events, instance_id, options, bundles=bundles)
    try:
        snapshot = replayer.run()
    except Difference as diff:
        return ReplayReport(False, replayer.position, diff.seq, diff.message)
    if stored_state is not None and snapshot is not None:
        context = CommandContext(now=events[-1].occurred_at, instance_id=instance_id)
        options = {k: v for k, v in options.items() if k != "recorded_services"}
        problem = compare_final(Execution.load(bundle, process_id, snapshot, context, **options),
                                Execution.load(bundle, process_id, stored_state, context, **options))
        if problem:
            return ReplayReport(False, replayer.position, None, problem)
    return ReplayReport(True, replayer.position)


def parse_payload(text: str) -> dict[str, Any]:
    """Stored payloads are canonical JSON text."""
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}
