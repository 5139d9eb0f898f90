"""`/tasks`: list, read with its form, claim, unclaim, complete."""
from __future__ import annotations

from typing import Any

from app.api import api, present, schemas
from app.models import User
from app.runtime import get_runtime
from app.services import staff, task_work
from app.services.uow import run_command

TASK_PATH = "/tasks/<task_id>"


@api.route("/tasks", "GET", summary="List tasks: available to me (default), mine, my groups', or all",
           tag="tasks", permission="read", response=schemas.items_of(schemas.TASK), errors=(422,),
           query={"scope": {"schema": {"enum": list(task_work.SCOPES)}, "default": "available"},
                  "status": {"schema": {"enum": ["open", "completed", "cancelled"]}, "default": "open"},
                  "instance_id": {"schema": schemas.ID},
                  "limit": schemas.LIMIT, "offset": schemas.OFFSET})
def list_tasks(user: User, query: dict[str, Any]) -> dict[str, Any]:
    return {"items": [present.task(row) for row in task_work.list_tasks(user, **query)]}


@api.route(TASK_PATH, "GET", summary="Read a task with the JSON Schema of its form (404 for a task you may not "
           "see: the task page's rule, i.e. task roles only, and then its group, its assignee or their substitute, "
           "or a supervisor; auditors, who list every staff task, read each of them)", tag="tasks", permission="read", response=schemas.TASK_DETAIL, errors=(404,))
def get_task(user: User, task_id: str) -> dict[str, Any]:
    who = staff.identity(user, now=get_runtime().clock.now())
    return present.task_detail(task_work.visible_task(task_id, who, auditor=user.has_role("auditor")))


@api.route(f"{TASK_PATH}/claim", "POST", summary="Claim a task of one of my groups", tag="tasks",
           permission="work_tasks", response=schemas.TASK, errors=(404, 409))
def claim_task(user: User, task_id: str) -> dict[str, Any]:
    now = get_runtime().clock.now()
    return run_command(lambda: present.task(task_work.claim(task_id, user=user, now=now)))


@api.route(f"{TASK_PATH}/unclaim", "POST", summary="Give a claimed task back to its group", tag="tasks",
           permission="work_tasks", response=schemas.TASK, errors=(404, 409))
def unclaim_task(user: User, task_id: str) -> dict[str, Any]:
    now = get_runtime().clock.now()
    return run_command(lambda: present.task(task_work.unclaim(task_id, user=user, now=now)))


@api.route(f"{TASK_PATH}/complete", "POST", summary="Complete a task with data validated against its form",
           tag="tasks", permission="work_tasks", body=schemas.COMPLETE_BODY, response=schemas.INSTANCE,
           errors=(404, 409, 422))
def complete_task(user: User, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    now = get_runtime().clock.now()
    return run_command(lambda: present.instance(task_work.complete(task_id, body["data"], user=user, now=now),
                                                now=now))
