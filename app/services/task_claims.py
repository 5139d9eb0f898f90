"""Claim, unclaim, reassign and complete tasks in the workspace, substitutes included.

The foundation's ``processes.claim_task`` is the one conditional UPDATE that lets exactly one
of several concurrent claims win; this module decides who may try: members of the task's group,
people standing in for a member or for the assignee, and supervisors.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from app.errors import (Conflict, NotFound, PermissionDenied, TaskAlreadyCompleted, TaskClaimedByOther,
                        ValidationFailed)
from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskStatus, User
from app.services import audit, processes, staff_forms, task_work
from app.services.complaint_facts import CUSTOMER_GROUP
from app.services.staff import Identity, works_tasks

OPEN = TaskStatus.OPEN.value
MISSING = "任务不存在或已完成，返回任务列表 / This task does not exist or is already finished; go back to the task list"
CUSTOMERS_OWN = ("此任务由客户本人在客户门户确认，员工不能代为处理 / This task is the customer's own (confirm the "
                 "resolution and rate it in the portal); staff cannot work it")


def get_task(task_id: str) -> HumanTask:
    """Return a task for the workspace pages, or a 404 worded for a person (the API words its own)."""
    task = db.session.execute(select(HumanTask).where(HumanTask.task_id == task_id)).scalar_one_or_none()
    if task is None:
        raise NotFound(MISSING, back="tasks.index", back_label="返回任务列表 / Back to the task list")
    return task


def ensure_may_view(who: Identity, task: HumanTask) -> None:
    """Refuse a user who may not open the task's page (the rule: ``task_work.may_view``)."""
    if task_work.may_view(who, task):
        return
    raise PermissionDenied(f"this task is for group '{task.candidate_group}' and you are not in it; "
                           f"ask a supervisor to reassign it")


def ensure_may_work(who: Identity, task: HumanTask) -> None:
    """Refuse a user who may not view the task, and every staff member for the customer's own tasks."""
    if task.candidate_group == CUSTOMER_GROUP:
        raise PermissionDenied(CUSTOMERS_OWN)
    ensure_may_view(who, task)


def claim(task_id: str, *, who: Identity, now: datetime) -> HumanTask:
    """Claim an open task; of several concurrent claims exactly one wins, the others see who did."""
    ensure_may_work(who, get_task(task_id))
    return processes.claim_task(task_id, user=who.username, now=now)


def unclaim(task_id: str, *, who: Identity, now: datetime) -> HumanTask:
    """Give a claimed task back to its group (its assignee, their substitute or a supervisor may)."""
    task = _open(task_id, "unclaim")
    if task.assignee is None:
        raise Conflict("this task is not claimed by anyone; there is nothing to unclaim")
    if task.assignee not in who.usernames and not who.is_supervisor:
        raise TaskClaimedByOther(f"already claimed by {task.assignee}; only they or a supervisor can unclaim it")
    before = task.assignee
    audit.record_assignment("unclaimed", _move(task, None, None), before, actor=who.username, now=now)
    return task


def reassign(task_id: str, username: str, *, who: Identity, now: datetime) -> HumanTask:
    """Give an open task to another staff member (supervisors only)."""
    if not who.is_supervisor:
        raise PermissionDenied("only supervisors can reassign tasks; unclaim it so your group can take it")
    task = _open(task_id, "reassign")
    target = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if target is None or not target.is_active_account:
        raise NotFound(f"no active staff member is called {username}; pick one from the list")
    if not works_tasks(target):
        raise ValidationFailed(f"{target.display_name} ({username}) does not work tasks (roles: "
                               f"{', '.join(target.roles) or 'none'}); pick an agent, expert, QA, finance or "
                               f"supervisor", fields={"username": "cannot work tasks"})
    before = task.assignee
    audit.record_assignment("reassigned", _move(task, username, now), before, actor=who.username, now=now)
    return task


def complete(task_id: str, data: dict[str, Any], *, who: Identity, now: datetime) -> ProcessInstance:
    """Complete a task the user may work that nobody else holds; the engine validates the form."""
    task = get_task(task_id)
    ensure_may_work(who, task)
    if task.status == OPEN and task.assignee not in (None, *who.usernames):
        raise TaskClaimedByOther(f"already claimed by {task.assignee}; only they can complete it unless a "
                                 f"supervisor unclaims it")
    if task.status == OPEN:   # worded for the staff page (Chinese first), not the engine's English
        staff_forms.check_submission(task_work.task_form(task), data)
    return processes.complete_task(task_id, data, actor=who.username, now=now)


def _open(task_id: str, verb: str) -> HumanTask:
    task = get_task(task_id)
    if task.candidate_group == CUSTOMER_GROUP:
        raise PermissionDenied(CUSTOMERS_OWN)
    if task.status != OPEN:
        raise TaskAlreadyCompleted(f"this task was already {task.status}; there is nothing to {verb}")
    return task


def _move(task: HumanTask, assignee: str | None, claimed_at: datetime | None) -> HumanTask:
    result = db.session.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == OPEN,
                                HumanTask.assignee == task.assignee if task.assignee else HumanTask.assignee.is_(None))
        .values(assignee=assignee, claimed_at=claimed_at).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("the task changed at the same moment; reload it and try again")
    db.session.refresh(task)
    return task
