"""The OpenAPI 3.1 document, generated from the route registry and the schemas it validates with."""
from __future__ import annotations

import re
from typing import Any

from app.api import api, schemas
from app.api.registry import Endpoint

ERROR_TEXT = {401: "no valid bearer token", 403: "your roles do not allow this", 404: "not found",
              405: "method not allowed", 409: "conflict: someone else acted first, or the state forbids it",
              413: "request too large", 422: "invalid input; `errors` lists each field",
              429: "too many requests from this address; wait and try again",
              503: "a system Kesu depends on (the shop's order API) cannot answer now; try again later"}
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", "/api/v1" + rule)


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True,
             "schema": schemas.ID if converter == "int" else {"type": "string", "minLength": 1, "maxLength": 64}}
            for converter, name in _CONVERTER.findall(rule)]


def _query_parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters = []
    for name, spec in endpoint.query.items():
        schema = dict(spec["schema"])
        if "default" in spec:
            schema["default"] = spec["default"]
        parameter = {"name": name, "in": "query", "required": False, "schema": schema}
        if spec.get("description"):
            parameter["description"] = spec["description"]
        parameters.append(parameter)
    return parameters


def _header_parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    return [{"name": name, "in": "header", "required": False, "schema": spec["schema"],
             "description": spec.get("description", "")} for name, spec in endpoint.headers.items()]


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    ok = {"content": {media_type: {"schema": endpoint.response} for media_type in endpoint.media_types}}
    responses: dict[str, Any] = {str(endpoint.status): {"description": "success", **ok}}
    for status, description in endpoint.alternative_status.items():
        responses[str(status)] = {"description": description, **ok}
    codes = set(endpoint.errors) | {405}
    if not endpoint.public:
        codes |= {401, 403} if endpoint.permission or endpoint.audience == "customer" else {401}
    if endpoint.query or endpoint.body is not None:
        codes.add(422)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for code in sorted(codes):
        responses[str(code)] = {"description": ERROR_TEXT[code], "content": problem}
    return responses


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": endpoint.operation_id, "summary": endpoint.summary,
                                 "tags": [endpoint.tag], "responses": _responses(endpoint)}
    parameters = _path_parameters(endpoint.rule) + _query_parameters(endpoint) + _header_parameters(endpoint)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": endpoint.body}}}
    if endpoint.multipart is not None:
        operation["requestBody"]["content"]["multipart/form-data"] = {"schema": endpoint.multipart}
    if endpoint.public:
        operation["security"] = []
    elif endpoint.audience == "customer":
        operation["security"] = [{"customer": []}]
    return operation


def build_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every registered endpoint."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in api.endpoints:
        paths.setdefault(_path(endpoint.rule), {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kesu process API", "version": "1.0.0",
                 "description": "Start and follow process instances, work user tasks, deliver messages. "
                                "Authenticate with `Authorization: Bearer <token>` "
                                "(`flask users token USERNAME`). Errors are application/problem+json. "
                                "The `customer` endpoints serve the shop's mobile app: they take a customer "
                                "token (`kesuc_...`, from POST /api/v1/customer/tokens) and no staff token."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "customer": {"type": "http", "scheme": "bearer",
                                                        "description": "a customer token, kesuc_..."}},
                       "schemas": {"Problem": schemas.PROBLEM}},
    }


@api.route("/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", tag="meta", permission=None,
           response={"type": "object"}, public=True)
def openapi_document() -> dict[str, Any]:
    return build_document()
