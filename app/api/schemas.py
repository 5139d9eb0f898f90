"""JSON Schemas of the API's requests and responses (JSON Schema 2020-12, as OpenAPI 3.1 uses).

Request schemas validate what views receive; response schemas document what they return
and are checked against real responses by the conformance tests.
"""
from __future__ import annotations

from typing import Any

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
TIME = {"type": "string", "format": "date-time"}
OPTIONAL_TIME = {"type": ["string", "null"], "format": "date-time"}
OPTIONAL_TEXT = {"type": ["string", "null"]}
DATA = {"type": "object", "description": "process data: any JSON object", "maxProperties": 200}
LIMIT = {"schema": {"type": "integer", "minimum": 1, "maximum": 200}, "default": 50,
         "description": "at most this many items"}
OFFSET = {"schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000}, "default": 0,
          "description": "skip this many items"}
INSTANCE_STATUSES = ["running", "waiting", "completed", "error", "cancelled", "suspended"]
FILE_PATH = r"^(bpmn/[A-Za-z0-9_.-]+\.bpmn|bpmn/forms/[A-Za-z0-9_.-]+\.json|rules/[A-Za-z0-9_.-]+\.dmn)$"


def obj(properties: dict[str, Any], *, required: list[str] | None = None, closed: bool = True) -> dict[str, Any]:
    """An object schema; ``required`` defaults to every property."""
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return schema


def items_of(schema: dict[str, Any]) -> dict[str, Any]:
    return obj({"items": {"type": "array", "items": schema}})


PROBLEM = obj({
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"},
    "errors": {"type": "array", "items": obj({"field": {"type": "string"}, "message": {"type": "string"}})},
    "problems": {"type": "array", "items": {"type": "object"}},
    "instances": {"type": "array", "items": {"type": "integer"}},
}, required=["title", "status", "detail"], closed=False)

DEFINITION = obj({
    "version": ID, "content_hash": {"type": "string"}, "process_ids": {"type": "array", "items": {"type": "string"}},
    "deployed_by": {"type": "string"}, "deployed_at": TIME, "comment": OPTIONAL_TEXT,
})
DEPLOYED = obj({**DEFINITION["properties"], "created": {"type": "boolean"}})
PROCESS = obj({"process_id": {"type": "string"}, "latest_version": ID, "versions": {"type": "array", "items": ID}})

DEPLOY_BODY = obj({
    "files": {"type": "object", "minProperties": 1, "maxProperties": 100,
              "propertyNames": {"pattern": FILE_PATH}, "additionalProperties": {"type": "string"},
              "description": "{path: file text}; paths bpmn/*.bpmn, bpmn/forms/*.json, rules/*.dmn"},
    "comment": {"type": "string", "maxLength": 500},
}, required=["files"])

TASK_SUMMARY = obj({
    "task_id": {"type": "string"}, "name": {"type": "string"}, "title": {"type": "string"},
    "candidate_group": OPTIONAL_TEXT, "assignee": OPTIONAL_TEXT,
})
TASK = obj({
    **TASK_SUMMARY["properties"], "instance_id": ID, "process_id": {"type": "string"},
    "status": {"enum": ["open", "completed", "cancelled"]}, "priority": {"enum": ["high", "medium", "low"]},
    "form_key": OPTIONAL_TEXT, "due_at": OPTIONAL_TIME, "created_at": TIME, "claimed_at": OPTIONAL_TIME,
    "completed_at": OPTIONAL_TIME, "completed_by": OPTIONAL_TEXT,
})
TASK_DETAIL = obj({**TASK["properties"], "instructions": OPTIONAL_TEXT,
                   "form": {"type": ["object", "null"], "description": "JSON Schema the data must satisfy"}})

INSTANCE = obj({
    "id": ID, "process_id": {"type": "string"}, "version": ID, "status": {"enum": INSTANCE_STATUSES},
    "business_key": OPTIONAL_TEXT, "error": OPTIONAL_TEXT, "started_by": OPTIONAL_TEXT,
    "created_at": TIME, "updated_at": TIME, "completed_at": OPTIONAL_TIME,
    "data": {"type": "object"}, "tasks": {"type": "array", "items": TASK_SUMMARY},
})
INSTANCE_SUMMARY = obj({k: v for k, v in INSTANCE["properties"].items() if k not in ("data", "tasks")})

START_BODY = obj({
    "process_id": {"type": "string", "minLength": 1, "maxLength": 120},
    "version": {**ID, "description": "a deployed version; the newest one containing the process by default"},
    "business_key": {"type": "string", "minLength": 1, "maxLength": 120},
    "data": DATA,
}, required=["process_id"])
REASON_BODY = obj({"reason": TEXT})
COMPLETE_BODY = obj({"data": DATA}, required=["data"])
MESSAGE_BODY = obj({
    "name": {"type": "string", "minLength": 1, "maxLength": 120},
    "correlations": {"type": "object", "maxProperties": 20,
                     "additionalProperties": {"type": ["string", "integer", "boolean"]},
                     "description": "{correlation property: value} picking the waiting instance"},
    "payload": DATA,
}, required=["name"])
EMPTY_BODY = obj({}, required=[])
