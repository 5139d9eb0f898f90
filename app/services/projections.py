"""Keep the query tables (human tasks, timers, message waits) in step with an instance.

The projections are derived from the engine state, so a command's changes to them are
the difference between the state before and after it: no query is needed to find them,
and only what changed is written (claims and other columns owned by people are never
overwritten).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, update

from app.services import prepared
from app.models import HumanTask, MessageWait, TaskStatus, Timer, TimerStatus
from workflows.engine import Execution, HumanTaskView


@dataclass(frozen=True)
class Projection:
    """What an instance shows the query tables at one moment."""

    tasks: dict[str, HumanTaskView] = field(default_factory=dict)
    timers: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    waits: frozenset[tuple[str, str, str]] = frozenset()

    @classmethod
    def of(cls, execution: Execution) -> Projection:
        return cls({view.task_id: view for view in execution.human_tasks()},
                   {task_id: (name, due) for task_id, name, due in execution.timers()},
                   frozenset(execution.message_waits()))


EMPTY = Projection()

# Built once: constructing a statement costs several times more than running it on SQLite.
_TASKS, _TIMERS, _WAITS = HumanTask.__table__, Timer.__table__, MessageWait.__table__
_INSERT_TASKS, _INSERT_TIMERS, _INSERT_WAITS = insert(_TASKS), insert(_TIMERS), insert(_WAITS)
# One row per execution (run as executemany): no expanding IN list, so the statements can be prepared.
_OPEN_TASK = (_TASKS.c.task_id == bindparam("b_task_id"), _TASKS.c.status == TaskStatus.OPEN.value)
_COMPLETE_TASK = update(_TASKS).where(*_OPEN_TASK).values(
    status=TaskStatus.COMPLETED.value, completed_at=bindparam("now"), completed_by=bindparam("actor"))
_CANCEL_TASK = update(_TASKS).where(*_OPEN_TASK).values(
    status=TaskStatus.CANCELLED.value, completed_at=bindparam("now"))
_UPDATE_TASK = update(_TASKS).where(_TASKS.c.task_id == bindparam("b_task_id"))
_ONE_TIMER = _TIMERS.c.task_id == bindparam("b_task_id")
_FIRE_TIMER = update(_TIMERS).where(_ONE_TIMER).values(status=TimerStatus.FIRED.value, fired_at=bindparam("now"))
_CANCEL_TIMER = update(_TIMERS).where(_ONE_TIMER).values(status=TimerStatus.CANCELLED.value)
_REARM_TIMER = update(_TIMERS).where(_TIMERS.c.task_id == bindparam("b_task_id")).values(
    status=TimerStatus.WAITING.value)
_DELETE_WAIT = delete(_WAITS).where(
    _WAITS.c.instance_id == bindparam("instance_id"), _WAITS.c.task_id == bindparam("task_id"),
    _WAITS.c.message_name == bindparam("message_name"), _WAITS.c.correlation_key == bindparam("correlation_key"))


def apply_changes(instance_id: int, before: Projection, after: Projection, execution: Execution,
                  now: datetime) -> None:
    """Write the difference between two projections of one instance."""
    _tasks(instance_id, before.tasks, after.tasks, execution, now)
    _timers(instance_id, before.timers, after.timers, execution, now)
    _waits(instance_id, before.waits, after.waits)


def _finished(task_ids: set[str], execution: Execution) -> tuple[list[str], list[str]]:
    done = [t for t in task_ids if execution.task_state(t) == "completed"]
    return done, [t for t in task_ids if t not in done]


def _tasks(instance_id: int, before: dict[str, HumanTaskView], after: dict[str, HumanTaskView],
           execution: Execution, now: datetime) -> None:
    new = [after[t] for t in after.keys() - before.keys()]
    if new:
        prepared.execute(_INSERT_TASKS, [_task_row(instance_id, view, now) for view in new])
    completed, cancelled = _finished(set(before) - set(after), execution)
    if completed:
        prepared.execute(_COMPLETE_TASK, [{"b_task_id": t, "now": now, "actor": execution.context.actor}
                                          for t in completed])
    if cancelled:
        prepared.execute(_CANCEL_TASK, [{"b_task_id": t, "now": now} for t in cancelled])
    for task_id in after.keys() & before.keys():
        view = after[task_id]
        if view != before[task_id]:
            prepared.execute(_UPDATE_TASK, {"b_task_id": task_id, "priority": view.priority, "due_at": view.due_at,
                                              "candidate_group": view.candidate_group, **_summary(view)})


def _task_row(instance_id: int, view: HumanTaskView, now: datetime) -> dict[str, Any]:
    return {"task_id": view.task_id, "instance_id": instance_id, "process_id": view.process_id,
            "name": view.name, "title": view.title, "form_key": view.form_key,
            "candidate_group": view.candidate_group, "assignee": None, "status": TaskStatus.OPEN.value,
            "priority": view.priority, "due_at": view.due_at, "instructions": view.instructions,
            "created_at": now, "claimed_at": None, "completed_at": None, "completed_by": None,
            **_summary(view)}


def _summary(view: HumanTaskView) -> dict[str, Any]:
    summary = view.summary
    return {"category": summary.category, "emotion": summary.emotion, "order_amount": summary.order_amount,
            "customer": summary.customer, "complaint_ref": summary.complaint_ref,
            "requested_by": summary.requested_by}


def _timers(instance_id: int, before: dict[str, tuple[str, datetime]],
            after: dict[str, tuple[str, datetime]], execution: Execution, now: datetime) -> None:
    new = after.keys() - before.keys()
    if new:
        prepared.execute(_INSERT_TIMERS, [
            {"instance_id": instance_id, "task_id": t, "task_name": after[t][0], "due_at": after[t][1],
             "status": TimerStatus.WAITING.value, "fired_at": None} for t in new])
    fired, cancelled = _finished(set(before) - set(after), execution)
    if fired:
        prepared.execute(_FIRE_TIMER, [{"b_task_id": t, "now": now} for t in fired])
    if cancelled:
        prepared.execute(_CANCEL_TIMER, [{"b_task_id": t} for t in cancelled])
    for task_id in after.keys() & before.keys():
        if after[task_id][1] != before[task_id][1]:  # a cycle timer re-armed
            prepared.execute(_REARM_TIMER, {"b_task_id": task_id, "due_at": after[task_id][1]})


def _waits(instance_id: int, before: frozenset[tuple[str, str, str]],
           after: frozenset[tuple[str, str, str]]) -> None:
    for task_id, name, key in before - after:
        prepared.execute(_DELETE_WAIT, {"instance_id": instance_id, "task_id": task_id, "message_name": name,
                                          "correlation_key": key})
    if after - before:
        prepared.execute(_INSERT_WAITS, [
            {"instance_id": instance_id, "task_id": t, "message_name": n, "correlation_key": k}
            for t, n, k in after - before])
