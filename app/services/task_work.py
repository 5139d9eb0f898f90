"""Work user tasks on behalf of a staff member: who may see, claim, unclaim and complete which task.

The engine guarantees exactly-once completion and the four-eyes rule (`processes`); this
module adds the people side: a task belongs to its candidate group (supervisors may work
any), and a task claimed by someone is theirs until they or a supervisor unclaim it. Who may
see a task at all is one rule, `may_view`, read by the task page and the API alike.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import ColumnElement, or_, select, true, update

from app.errors import Conflict, NotFound, PermissionDenied, TaskAlreadyCompleted, TaskClaimedByOther
from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskStatus, User
from app.services import audit, definitions, processes, refund_limits, staff
from app.services.complaint_facts import CUSTOMER_GROUP
from app.services.staff import Identity

OVERSEERS = ("supervisor", "auditor")  # may list every task


# The customer's own tasks (confirm the resolution) are answered in the portal or the customer API, never by staff.
STAFF_WORK = or_(HumanTask.candidate_group.is_(None), HumanTask.candidate_group != CUSTOMER_GROUP)
CUSTOMERS_OWN = ("this task is the customer's own (they confirm the resolution and rate it in the portal or "
                 "the customer API); staff cannot claim or complete it")


def _worked_by(user: User) -> ColumnElement[bool]:
    return or_(HumanTask.assignee == user.username, HumanTask.candidate_group.in_(user.groups),
               HumanTask.candidate_group.is_(None))


SCOPES: dict[str, Callable[[User], ColumnElement[bool]]] = {
    "available": _worked_by,
    "mine": lambda user: HumanTask.assignee == user.username,
    "groups": lambda user: HumanTask.candidate_group.in_(user.groups),
    "all": lambda user: true(),
}


def list_tasks(user: User, *, scope: str = "available", status: str = TaskStatus.OPEN.value,
               instance_id: int | None = None, limit: int = 50, offset: int = 0) -> list[HumanTask]:
    """Return the tasks a user asked for, most urgent first."""
    if scope == "all" and not any(user.has_role(role) for role in OVERSEERS):
        raise PermissionDenied("only supervisors and auditors may list every task; use scope=available, "
                               "mine or groups")
    query = select(HumanTask).where(SCOPES[scope](user), HumanTask.status == status, STAFF_WORK)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    query = query.order_by(HumanTask.priority, HumanTask.created_at, HumanTask.id).limit(limit).offset(offset)
    return list(db.session.execute(query).scalars())


def get_task(task_id: str) -> HumanTask:
    task = db.session.execute(select(HumanTask).where(HumanTask.task_id == task_id)).scalar_one_or_none()
    if task is None:
        raise NotFound(f"task {task_id} does not exist; list your tasks with GET /api/v1/tasks")
    return task


def may_view(who: Identity, task: HumanTask) -> bool:
    """Whether ``who`` may see ``task``: the one rule of the task page and the API.

    Only staff who work tasks (``staff.TASK_ROLES``; admins hold every role), and of them supervisors
    (every task, the customer's own confirmation too: they see that the complaint waits for the
    customer), members of the task's candidate group (everyone when it has none), and its assignee
    or whoever stands in for them now.
    """
    return who.works_tasks and (who.is_supervisor or task.candidate_group is None
                                or task.candidate_group in who.groups or task.assignee in who.usernames)


def visible_task(task_id: str, who: Identity, *, auditor: bool = False) -> HumanTask:
    """Return a task ``who`` may see; one they may not see is answered exactly like a missing one (404),
    so that the API never confirms that an id exists.

    ``auditor``: the caller audits. Auditors list every staff task (``scope=all``) without working
    any, so the API lets them read each of those too (read-only; never the customer's own task).
    """
    task = db.session.execute(select(HumanTask).where(HumanTask.task_id == task_id)).scalar_one_or_none()
    audited = auditor and task is not None and task.candidate_group != CUSTOMER_GROUP
    if task is None or not (may_view(who, task) or audited):
        raise NotFound(f"task {task_id} does not exist or is not one you may see; "
                       f"list your tasks with GET /api/v1/tasks")
    return task


def task_form(task: HumanTask) -> dict[str, Any] | None:
    """Return the JSON Schema the task's submission is validated against (None if it has no form)."""
    if not task.form_key:
        return None
    instance = db.session.get(ProcessInstance, task.instance_id)
    return definitions.bundle_for(instance.definition).forms.get(task.form_key) if instance else None


def _workable(task_id: str, user: User, now: datetime) -> tuple[Identity, HumanTask]:
    """The user's identity and a task they may see (else 404) that is not the customer's own (else 403)."""
    who = staff.identity(user, now=now)
    task = visible_task(task_id, who)
    if task.candidate_group == CUSTOMER_GROUP:
        raise PermissionDenied(CUSTOMERS_OWN)
    return who, task


def claim(task_id: str, *, user: User, now: datetime) -> HumanTask:
    """Claim an open task for the user (one of several concurrent claims wins)."""
    _workable(task_id, user, now)
    return processes.claim_task(task_id, user=user.username, now=now)


def unclaim(task_id: str, *, user: User, now: datetime) -> HumanTask:
    """Give a claimed task back to its group (its assignee, their substitute, or a supervisor, may)."""
    who, task = _workable(task_id, user, now)
    if task.status != TaskStatus.OPEN.value:
        raise TaskAlreadyCompleted(f"this task was already {task.status}; there is nothing to unclaim")
    if task.assignee is None:
        raise Conflict("this task is not claimed by anyone; there is nothing to unclaim")
    if task.assignee not in who.usernames and not who.is_supervisor:
        raise TaskClaimedByOther(f"claimed by {task.assignee}; only they or a supervisor can unclaim it")
    result = db.session.execute(
        update(HumanTask).where(HumanTask.task_id == task_id, HumanTask.assignee == task.assignee,
                                HumanTask.status == TaskStatus.OPEN.value)
        .values(assignee=None, claimed_at=None).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("the task changed at the same moment; reload it and try again")
    before = task.assignee
    db.session.refresh(task)
    audit.record_assignment("unclaimed", task, before, actor=user.username, now=now)
    return task


def complete(task_id: str, data: dict[str, Any], *, user: User, now: datetime) -> ProcessInstance:
    """Complete a task the user may work and nobody else holds; the engine validates the form."""
    who, task = _workable(task_id, user, now)
    if task.status == TaskStatus.OPEN.value and task.assignee not in (None, *who.usernames):
        raise TaskClaimedByOther(f"claimed by {task.assignee}; only they can complete it unless a "
                                 f"supervisor unclaims it")
    refund_limits.check_refund_form(task, data, now=now)
    return processes.complete_task(task_id, data, actor=user.username, now=now, task=task)
