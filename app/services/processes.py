"""Process instances: start, advance, complete tasks, fire timers, deliver messages, retry.

Every command is load -> run -> save inside the caller's transaction. Saving bumps the
instance's version (``UPDATE ... WHERE version = :v``), so a concurrent writer makes
the flush fail with ``StaleDataError``; `app.services.uow.run_command` retries it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.errors import (Conflict, FourEyesViolation, NotFound, TaskAlreadyCompleted,
                        TaskClaimedByOther, ValidationFailed, WorkflowError)
from app.extensions import db
from app.models import (GENESIS_HASH, HumanTask, InstanceStatus, MessageWait, ProcessDefinition, ProcessInstance,
                        TaskStatus)
from app.runtime import get_runtime
from app.services import audit, complaint_facts, definitions, jobs, prepared, projections
from workflows.engine import CommandContext, EngineError, Event, Execution, correlation_key
from workflows.services import ServiceError

_ENGINE_ERRORS = {"not_found": NotFound, "conflict": Conflict, "forbidden": FourEyesViolation}
_INSTANCES = ProcessInstance.__table__
# Built once: constructing a statement costs several times more than running it on SQLite.
_SAVE_INSTANCE = update(_INSTANCES).where(_INSTANCES.c.id == bindparam("b_id"),
                                          _INSTANCES.c.version == bindparam("b_version"))
_INSERT_INSTANCE = insert(_INSTANCES).returning(_INSTANCES.c.id)
_TASKS = HumanTask.__table__  # Core columns: the SELECT skips the ORM's per-execution work
_TASK_BY_ID = select(_TASKS.c.instance_id, _TASKS.c.status, _TASKS.c.completed_by).where(
    _TASKS.c.task_id == bindparam("task_id"))


def start_instance(process_id: str, data: dict[str, Any], *, actor: str | None, now: datetime,
                   business_key: str | None = None, definition: ProcessDefinition | None = None,
                   queued: bool = False) -> ProcessInstance:
    """Start the current deployed version of a process (or the given one) and run it until it waits.

    With ``queued`` the instance is only created (status running) and a ``start`` job runs it.
    """
    if definition is None:
        definition_id = definitions.current_version_for(process_id)
        bundle = definitions.bundle_for_id(definition_id)
    else:
        definition_id, bundle = definition.id, definitions.bundle_for(definition)
        if process_id not in bundle.specs:
            raise NotFound(f"process '{process_id}' is not deployed in version {definition.version}")
    instance = _insert_instance(definition_id=definition_id, process_id=process_id, business_key=business_key,
                                status=InstanceStatus.RUNNING.value, state=None, error_message=None,
                                started_by=actor, created_at=now, updated_at=now, completed_at=None,
                                event_seq=0, event_head=GENESIS_HASH, version=1)
    if queued:
        jobs.enqueue("start", process_id, {"data": data}, f"start:{instance.id}", now=now, instance_id=instance.id)
        return instance
    return run_start(instance, data, now=now)


def _insert_instance(**values: Any) -> ProcessInstance:
    """Insert an instance row now (its id is part of idempotency keys and the event stream).

    One Core INSERT ... RETURNING; the ORM object is then attached as already persistent,
    which skips the unit of work's flush machinery for a row whose every column is known.
    """
    values["id"] = prepared.execute(_INSERT_INSTANCE, values)[1][0][0]
    instance = ProcessInstance(**values)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


def run_start(instance: ProcessInstance, data: dict[str, Any], *, now: datetime) -> ProcessInstance:
    """Run a created instance from its start event until it waits (a queued start's job calls this)."""
    if instance.state is not None:
        return instance  # already started: the job ran before
    if instance.status != InstanceStatus.RUNNING.value:
        raise Conflict(f"instance {instance.id} is {instance.status}; resume it first")
    context = CommandContext(now=now, actor=instance.started_by, instance_id=instance.id)
    execution = Execution.start(definitions.bundle_for_id(instance.definition_id), instance.process_id, data, context,
                                **get_runtime().execution_options())
    _save(instance, execution, now, before=projections.EMPTY)
    return instance


class TaskRow(Protocol):
    """What completing needs of a task's projection row (a `HumanTask`, or a row of these columns)."""

    instance_id: int
    status: str
    completed_by: str | None


def complete_task(task_id: str, data: dict[str, Any], *, actor: str, now: datetime,
                  task: TaskRow | None = None) -> ProcessInstance:
    """Complete a user task with form data; only one of several concurrent completions wins.

    ``task`` is the task's row when the caller read it in this transaction already (the task
    page checks who may work it), which saves reading it again. It only picks the instance
    and words the refusal of a closed task: the engine state and the instance row's version
    check decide whether the completion wins.
    """
    if task is None:
        task = db.session.execute(_TASK_BY_ID, {"task_id": task_id}).first()
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if task.status != TaskStatus.OPEN.value:
        who = f" by {task.completed_by}" if task.completed_by else ""
        raise TaskAlreadyCompleted(f"this task was already {task.status}{who}; reload your task list")
    return run_on_instance(task.instance_id, lambda ex: ex.complete_task(task_id, data, actor=actor),
                           actor=actor, now=now)


def fire_due_timers(instance_id: int, *, now: datetime) -> list[str]:
    """Fire the timers of one instance that are due at ``now``; return their names."""
    fired: list[str] = []
    run_on_instance(instance_id, lambda ex: fired.extend(ex.fire_timers()), actor=None, now=now)
    return fired


def deliver_message(name: str, correlations: dict[str, Any], payload: dict[str, Any], *,
                    actor: str | None, now: datetime) -> ProcessInstance:
    """Deliver a message to the one instance waiting for it with these correlation values."""
    key = correlation_key({"_": correlations}) if correlations else ""
    waits = db.session.execute(select(MessageWait).where(
        MessageWait.message_name == name, MessageWait.correlation_key == key)).scalars().all()
    instance_ids = sorted({w.instance_id for w in waits})
    if not instance_ids:
        raise NotFound(f"no process instance is waiting for message '{name}' with {key or 'no correlation'}")
    if len(instance_ids) > 1:
        where = key or "no correlation"
        raise Conflict(f"{len(instance_ids)} instances wait for message '{name}' with {where}; "
                       f"give correlation keys that pick one", instances=instance_ids)
    return run_on_instance(instance_ids[0], lambda ex: ex.deliver_message(name, payload),
                           actor=actor, now=now)


def settle_service_call(instance_id: int, task_id: str, *, result: dict[str, Any] | None = None,
                        error: ServiceError | None = None, now: datetime) -> ProcessInstance:
    """Hand an asynchronous service call's result (or failure) back to its waiting task."""
    return run_on_instance(instance_id, lambda ex: ex.settle_async(task_id, result=result, error=error),
                           actor=None, now=now)


def retry_instance(instance_id: int, *, actor: str, now: datetime) -> ProcessInstance:
    """Re-run the failed steps of an instance in error."""
    return run_on_instance(instance_id, lambda ex: ex.retry(), actor=actor, now=now)


def get_instance(instance_id: int) -> ProcessInstance:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return instance


def load_execution(instance: ProcessInstance, *, now: datetime, actor: str | None = None) -> Execution:
    """Re-attach an instance's snapshot to its pinned version."""
    if instance.state is None:
        raise WorkflowError(f"instance {instance.id} has no stored state (purged after retention)")
    bundle = definitions.bundle_for_id(instance.definition_id)
    context = CommandContext(now=now, actor=actor, instance_id=instance.id)
    return Execution.load(bundle, instance.process_id, instance.state, context,
                          **get_runtime().execution_options())


def run_on_instance(instance_id: int, command: Callable[[Execution], Any], *, actor: str | None,
                    now: datetime) -> ProcessInstance:
    """Load an instance, apply one engine command, and save it with its events and projections."""
    instance = get_instance(instance_id)
    if instance.status in (InstanceStatus.CANCELLED.value, InstanceStatus.SUSPENDED.value):
        raise Conflict(f"instance {instance_id} is {instance.status}; resume it first")
    live = get_runtime().live.take(instance.id, (instance.definition_id, instance.process_id), instance.state or "")
    if live is None:
        execution = load_execution(instance, now=now, actor=actor)
        before = projections.Projection.of(execution)
    else:  # the workflow this process saved last, still what is stored: no need to parse it again
        workflow, before = live
        execution = Execution(workflow, definitions.bundle_for_id(instance.definition_id), instance.process_id,
                              CommandContext(now=now, actor=actor, instance_id=instance.id),
                              **get_runtime().execution_options())
    try:
        command(execution)
    except EngineError as error:
        raise _app_error(error) from error
    _save(instance, execution, now, before=before)
    return instance


def _app_error(error: EngineError) -> Exception:
    if error.kind == "invalid":
        return ValidationFailed(error.message, fields=error.fields)
    if error.kind == "task_closed":
        return TaskAlreadyCompleted("this task was already completed by someone else; reload your task list")
    return _ENGINE_ERRORS.get(error.kind, WorkflowError)(error.message)


def _save(instance: ProcessInstance, execution: Execution, now: datetime, *,
          before: projections.Projection) -> None:
    status = execution.status
    if status != instance.status and status in (InstanceStatus.COMPLETED.value, InstanceStatus.ERROR.value):
        execution.emit(Event(f"instance.{status}", {"message": execution.error_message}
                             if execution.error_message else {}))
    (event_seq, event_head), rows = audit.chain_events(
        audit.instance_stream(instance.id), instance.id, execution.events,
        head=(instance.event_seq, instance.event_head), now=now, actor=execution.context.actor)
    completed_at = instance.completed_at or (now if status == InstanceStatus.COMPLETED.value else None)
    snapshot = execution.dump()
    _write_instance(instance, state=snapshot, status=status, updated_at=now, completed_at=completed_at,
                    error_message=execution.error_message if status == InstanceStatus.ERROR.value else None,
                    event_seq=event_seq, event_head=event_head)
    after = projections.Projection.of(execution)
    projections.apply_changes(instance.id, before, after, execution, now)
    _observe_complaint(instance, execution, before, after, now=now)
    audit.insert_events(rows)
    for call in execution.async_calls:
        jobs.enqueue("service", call.operator, {"params": call.params, "task_name": call.task_name},
                     call.idempotency_key, now=now, instance_id=instance.id, task_id=call.task_id,
                     max_attempts=call.retries + 1)
    if status not in (InstanceStatus.COMPLETED.value, InstanceStatus.ERROR.value):
        get_runtime().live.keep(instance.id, (instance.definition_id, instance.process_id), snapshot,
                                execution.workflow, after)


def _observe_complaint(instance: ProcessInstance, execution: Execution, before: projections.Projection,
                       after: projections.Projection, *, now: datetime) -> None:
    """Hand a complaint_handling command's effects to the complaint's dashboard facts."""
    if instance.process_id != "complaint_handling":
        return
    created = [(after.tasks[t].name, after.tasks[t].candidate_group) for t in after.tasks.keys() - before.tasks.keys()]
    confirmed = any(before.tasks[t].name == complaint_facts.CONFIRM_TASK and execution.task_state(t) == "completed"
                    for t in before.tasks.keys() - after.tasks.keys())
    complaint_facts.observe(instance, execution.data, created=created, confirmed=confirmed,
                            completed=execution.status == InstanceStatus.COMPLETED.value, now=now)


def _write_instance(instance: ProcessInstance, **values: Any) -> None:
    """Save an instance row if nobody saved it since it was loaded (the optimistic lock).

    One Core UPDATE guarded by the version column; a concurrent writer leaves it matching
    no row, and StaleDataError makes `run_command` retry the whole command.
    """
    db.session.flush()  # a new instance's INSERT, and anything else pending, goes first
    version = instance.version
    rowcount, _ = prepared.execute(_SAVE_INSTANCE, {"b_id": instance.id, "b_version": version,
                                                    "version": version + 1, **values})
    if rowcount != 1:
        raise StaleDataError(f"process instance {instance.id} was changed by another writer")
    for key, value in {**values, "version": version + 1}.items():
        set_committed_value(instance, key, value)


def claim_task(task_id: str, *, user: str, now: datetime) -> HumanTask:
    """Claim an open task for ``user``; exactly one of several concurrent claims wins."""
    result = db.session.execute(
        update(HumanTask).where(HumanTask.task_id == task_id, HumanTask.status == TaskStatus.OPEN.value,
                                HumanTask.assignee.is_(None))
        .values(assignee=user, claimed_at=now).execution_options(synchronize_session=False))
    task = db.session.execute(select(HumanTask).where(HumanTask.task_id == task_id)).scalar_one_or_none()
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    db.session.refresh(task)
    if result.rowcount == 1:
        audit.record_assignment("claimed", task, None, actor=user, now=now)
        return task
    if task.status != TaskStatus.OPEN.value:
        raise TaskAlreadyCompleted(f"this task was already {task.status}")
    if task.assignee == user:
        return task
    raise TaskClaimedByOther(f"already claimed by {task.assignee}")
