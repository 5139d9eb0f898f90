"""`/instances`: start (synchronously or queued), list, read, cancel, suspend, resume, retry."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

from app.api import api, present, schemas
from app.models import ProcessInstance, User
from app.runtime import get_runtime
from app.services import instance_admin, instance_queries, processes
from app.services.uow import run_command

INSTANCE_PATH = "/instances/<int:instance_id>"


def _run(command: Callable[[Any], ProcessInstance]) -> dict[str, Any]:
    """Run a command on an instance in one unit of work and render the instance it leaves."""
    now = get_runtime().clock.now()
    return run_command(lambda: present.instance(command(now), now=now))


@api.route("/instances", "POST", summary="Start an instance and run it until it waits (or queue it)",
           tag="instances", permission="start", body=schemas.START_BODY, response=schemas.INSTANCE,
           status=201, errors=(404, 422),
           query={"mode": {"schema": {"enum": ["sync", "async"]}, "default": "sync",
                           "description": "async: answer 202 at once; the worker runs the instance"}},
           alternative_status={202: "queued (mode=async); poll the instance"})
def start_instance(user: User, body: dict[str, Any], query: dict[str, Any]) -> tuple[dict[str, Any], int]:
    version = body.get("version")
    definition = instance_queries.definition_by_version(version) if version else None
    start = partial(processes.start_instance, queued=query["mode"] == "async")
    result = _run(lambda now: start(body["process_id"], body.get("data", {}), actor=user.username, now=now,
                                    business_key=body.get("business_key"), definition=definition))
    return result, 202 if query["mode"] == "async" else 201


@api.route("/instances", "GET", summary="List instances, newest first", tag="instances", permission="read",
           response=schemas.items_of(schemas.INSTANCE_SUMMARY), errors=(422,),
           query={"process_id": {"schema": {"type": "string", "maxLength": 120}},
                  "status": {"schema": {"enum": schemas.INSTANCE_STATUSES}},
                  "business_key": {"schema": {"type": "string", "maxLength": 120}},
                  "limit": schemas.LIMIT, "offset": schemas.OFFSET})
def list_instances(user: User, query: dict[str, Any]) -> dict[str, Any]:
    return {"items": [present.instance_summary(row) for row in instance_queries.list_instances(**query)]}


@api.route(INSTANCE_PATH, "GET", summary="Read an instance: status, data, waiting tasks, version",
           tag="instances", permission="read", response=schemas.INSTANCE, errors=(404,))
def get_instance(user: User, instance_id: int) -> dict[str, Any]:
    return present.instance(processes.get_instance(instance_id), now=get_runtime().clock.now())


@api.route(f"{INSTANCE_PATH}/cancel", "POST", summary="Cancel an instance (closes its tasks, timers, waits, jobs)",
           tag="instances", permission="administer", body=schemas.REASON_BODY, response=schemas.INSTANCE,
           errors=(404, 409, 422))
def cancel_instance(user: User, instance_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _run(lambda now: instance_admin.cancel_instance(instance_id, reason=body["reason"],
                                                           actor=user.username, now=now))


@api.route(f"{INSTANCE_PATH}/suspend", "POST", summary="Suspend an instance until it is resumed",
           tag="instances", permission="administer", body=schemas.REASON_BODY, response=schemas.INSTANCE,
           errors=(404, 409, 422))
def suspend_instance(user: User, instance_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _run(lambda now: instance_admin.suspend_instance(instance_id, reason=body["reason"],
                                                            actor=user.username, now=now))


@api.route(f"{INSTANCE_PATH}/resume", "POST", summary="Resume a suspended instance", tag="instances",
           permission="administer", body=schemas.REASON_BODY, response=schemas.INSTANCE, errors=(404, 409, 422))
def resume_instance(user: User, instance_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return _run(lambda now: instance_admin.resume_instance(instance_id, reason=body["reason"],
                                                           actor=user.username, now=now))


@api.route(f"{INSTANCE_PATH}/retry", "POST", summary="Retry the failed steps of an instance in error",
           tag="instances", permission="administer", response=schemas.INSTANCE, errors=(404, 409))
def retry_instance(user: User, instance_id: int) -> dict[str, Any]:
    return _run(lambda now: processes.retry_instance(instance_id, actor=user.username, now=now))
