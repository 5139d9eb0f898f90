"""`/definitions` and `/processes`: what is deployed, and deploying a new version."""
from __future__ import annotations

from typing import Any

from app.api import api, present, schemas
from app.models import User
from app.runtime import get_runtime
from app.services import definitions as definition_service
from app.services import instance_queries
from app.services.uow import run_command

MAX_DEPLOY_BYTES = 16 * 1024 * 1024


@api.route("/definitions", "GET", summary="List deployed versions, newest first", tag="definitions",
           permission="read", response=schemas.items_of(schemas.DEFINITION))
def list_definitions(user: User) -> dict[str, Any]:
    return {"items": [present.definition(row) for row in instance_queries.list_definitions()]}


@api.route("/processes", "GET", summary="List deployed processes with their versions", tag="definitions",
           permission="read", response=schemas.items_of(schemas.PROCESS))
def list_processes(user: User) -> dict[str, Any]:
    return {"items": present.processes(instance_queries.list_definitions())}


@api.route("/definitions", "POST", summary="Deploy BPMN, DMN and form files as a new version",
           tag="definitions", permission="deploy", body=schemas.DEPLOY_BODY, response=schemas.DEPLOYED,
           status=201, errors=(413, 422), max_body=MAX_DEPLOY_BYTES,
           alternative_status={200: "the same files are already deployed; that version is returned"})
def deploy_definition(user: User, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    now = get_runtime().clock.now()
    definition, created = run_command(lambda: definition_service.deploy(
        body["files"], actor=user.username, now=now, comment=body.get("comment")))
    return present.definition(definition, created=created), 201 if created else 200
