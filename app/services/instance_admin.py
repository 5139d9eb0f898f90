"""Administer instances: cancel, suspend and resume, each with a reason in the instance's history.

These commands change no engine state: they close or pause what the instance waits for
(human tasks, timers, message waits, queued jobs) and move its status. The instance row's
version check still applies, so a concurrent engine command makes one of the two retry.
`run_on_instance` refuses cancelled and suspended instances, so nothing runs while paused.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update

from app.errors import Conflict
from app.extensions import db
from app.models import HumanTask, InstanceStatus, Job, JobStatus, MessageWait, ProcessInstance, TaskStatus, Timer
from app.services import audit, processes
from workflows.engine import Event

SUSPENDED_TIMER = "suspended"  # a timer of a suspended instance: not scheduled until resumed
_LIVE_TIMERS = ("waiting", "scheduled", SUSPENDED_TIMER)
_FINISHED = (InstanceStatus.COMPLETED.value, InstanceStatus.CANCELLED.value)


def cancel_instance(instance_id: int, *, reason: str, actor: str, now: datetime) -> ProcessInstance:
    """Cancel an unfinished instance: close its open tasks, timers, message waits and queued jobs."""
    instance = processes.get_instance(instance_id)
    if instance.status in _FINISHED:
        raise Conflict(f"instance {instance_id} is already {instance.status}; there is nothing to cancel")
    _bulk(update(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN.value)
          .values(status=TaskStatus.CANCELLED.value, completed_at=now))
    _bulk(update(Timer).where(Timer.instance_id == instance_id, Timer.status.in_(_LIVE_TIMERS))
          .values(status="cancelled"))
    _bulk(delete(MessageWait).where(MessageWait.instance_id == instance_id))
    _bulk(update(Job).where(Job.instance_id == instance_id, Job.status == JobStatus.QUEUED.value)
          .values(status=JobStatus.CANCELLED.value, finished_at=now))
    instance.completed_at = now
    _move(instance, InstanceStatus.CANCELLED.value, "instance.cancelled", reason, actor=actor, now=now)
    return instance


def suspend_instance(instance_id: int, *, reason: str, actor: str, now: datetime) -> ProcessInstance:
    """Pause an instance: its timers stop being scheduled and no command runs until it is resumed."""
    instance = processes.get_instance(instance_id)
    if instance.status in (*_FINISHED, InstanceStatus.SUSPENDED.value):
        raise Conflict(f"instance {instance_id} is {instance.status}; only running, waiting or failed "
                       f"instances can be suspended")
    _bulk(update(Timer).where(Timer.instance_id == instance_id, Timer.status == "waiting")
          .values(status=SUSPENDED_TIMER))
    _move(instance, InstanceStatus.SUSPENDED.value, "instance.suspended", reason, actor=actor, now=now)
    return instance


def resume_instance(instance_id: int, *, reason: str, actor: str, now: datetime) -> ProcessInstance:
    """Resume a suspended instance where it stood; timers that fell due meanwhile fire on the next tick."""
    instance = processes.get_instance(instance_id)
    if instance.status != InstanceStatus.SUSPENDED.value:
        raise Conflict(f"instance {instance_id} is {instance.status}, not suspended; there is nothing to resume")
    _bulk(update(Timer).where(Timer.instance_id == instance_id, Timer.status == SUSPENDED_TIMER)
          .values(status="waiting"))
    _move(instance, _engine_status(instance, now), "instance.resumed", reason, actor=actor, now=now)
    return instance


def _engine_status(instance: ProcessInstance, now: datetime) -> str:
    if instance.state is None:  # a queued start that has not run yet
        return InstanceStatus.RUNNING.value
    return processes.load_execution(instance, now=now).status


def _move(instance: ProcessInstance, status: str, event_type: str, reason: str, *, actor: str,
          now: datetime) -> None:
    payload: dict[str, Any] = {"reason": reason, "from": instance.status, "to": status}
    instance.status = status
    append_instance_event(instance, Event(event_type, payload, actor=actor), actor=actor, now=now)


def append_instance_event(instance: ProcessInstance, event: Event, *, actor: str | None, now: datetime) -> None:
    """Chain one event onto an instance's history; the row's version check guards the head."""
    head, rows = audit.chain_events(audit.instance_stream(instance.id), instance.id, [event],
                                    head=(instance.event_seq, instance.event_head), now=now, actor=actor)
    instance.event_seq, instance.event_head = head
    instance.updated_at = now
    db.session.flush()  # StaleDataError if another writer saved this instance first
    audit.insert_events(rows)


def _bulk(statement: Any) -> None:
    db.session.execute(statement.execution_options(synchronize_session=False))
