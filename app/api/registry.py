"""The API's route registry: each endpoint declares its schemas once; the same declaration
parses and validates requests and generates the OpenAPI document (`app.api.openapi`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint, Response, current_app, g, jsonify, request

from app.errors import KesuError, NotFound, ValidationFailed
from app.extensions import limiter
from workflows.forms import FormProblem, form_errors, form_problems

MAX_ID = 2**31 - 1
DEFAULT_MAX_BODY = 1024 * 1024


class PayloadTooLarge(KesuError):
    status = 413
    title = "Request too large"


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API, as declared by its view."""

    rule: str
    method: str
    view: Callable[..., Any]
    summary: str
    tag: str
    permission: str | None
    response: dict[str, Any]
    status: int = 200
    body: dict[str, Any] | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    public: bool = False
    alternative_status: dict[int, str] = field(default_factory=dict)
    audience: str = "staff"                    # staff | customer: which kind of token opens it
    rate_limit: str | None = None              # config key of a Flask-Limiter limit, per client address
    multipart: dict[str, Any] | None = None    # schema of the multipart/form-data alternative of ``body``
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)   # documented request headers
    media_types: tuple[str, ...] = ("application/json",)             # of the success response
    # words a refused body for its reader (e.g. the customer's language); default: the engine's English
    body_refusal: Callable[[list[FormProblem]], ValidationFailed] | None = None

    @property
    def operation_id(self) -> str:
        return self.view.__name__


class ApiRegistry:
    """Collect endpoints on a blueprint; views get the user and parsed, validated input."""

    def __init__(self, blueprint: Blueprint, check_permission: Callable[[Any, str], None]) -> None:
        self.blueprint = blueprint
        self.check_permission = check_permission
        self.endpoints: list[Endpoint] = []
        self.audiences: dict[str, str | None] = {}

    def route(self, rule: str, method: str, **declared: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            endpoint = Endpoint(rule=rule, method=method, view=view, **declared)
            self.endpoints.append(endpoint)
            self.audiences[f"{self.blueprint.name}.{endpoint.operation_id}"] = (
                None if endpoint.public else endpoint.audience)
            handler = self._handler(endpoint)
            if endpoint.rate_limit:
                setting = endpoint.rate_limit
                handler = limiter.limit(lambda: str(current_app.config[setting]))(handler)
            self.blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
            return view
        return decorator

    def audience_of(self, endpoint_name: str | None) -> str | None:
        """Return who may call a blueprint endpoint ("staff", "customer"; None if public or unknown)."""
        return self.audiences.get(endpoint_name or "")

    def _handler(self, endpoint: Endpoint) -> Callable[..., Response]:
        def handle(**path: Any) -> tuple[Response, int]:
            user = None if endpoint.public else g.api_customer if endpoint.audience == "customer" else g.api_user
            if endpoint.permission:
                self.check_permission(user, endpoint.permission)
            kwargs = {name: _path_value(value) for name, value in path.items()}
            if endpoint.query:
                kwargs["query"] = parse_query(endpoint.query, request.args.to_dict())
            if endpoint.multipart is not None and request.mimetype == "multipart/form-data":
                kwargs["body"] = parse_form(endpoint.multipart, endpoint.max_body)
            elif endpoint.body is not None:
                kwargs["body"] = parse_body(endpoint.body, endpoint.max_body, refusal=endpoint.body_refusal)
            result = endpoint.view(user, **kwargs) if not endpoint.public else endpoint.view(**kwargs)
            if isinstance(result, Response):
                return result, result.status_code
            payload, status = result if isinstance(result, tuple) else (result, endpoint.status)
            return jsonify(payload), status
        handle.__name__ = endpoint.operation_id
        return handle


def _path_value(value: Any) -> Any:
    if isinstance(value, int) and not 0 < value <= MAX_ID:
        raise NotFound(f"there is nothing with id {value}")
    if isinstance(value, str):
        refuse_bad_text(value, "path")
    return value


def parse_query(declared: dict[str, dict[str, Any]], args: dict[str, str]) -> dict[str, Any]:
    """Coerce query parameters to their schema types and validate them (422 with a field list)."""
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, raw in args.items():
        spec = declared.get(name)
        if spec is None:
            continue  # unknown parameters are ignored, as HTTP caches and proxies add their own
        refuse_bad_text(raw, name)
        if spec["schema"].get("type") == "integer":
            try:
                values[name] = int(raw)
            except ValueError:
                fields[name] = "must be a whole number"
                continue
        else:
            values[name] = raw
    schema = {"type": "object", "properties": {n: s["schema"] for n, s in declared.items()}}
    fields.update(form_errors(schema, values))
    if fields:
        raise ValidationFailed("the query parameters are invalid; correct the fields listed", fields=fields)
    return {name: values.get(name, spec.get("default")) for name, spec in declared.items()}


def parse_body(schema: dict[str, Any], max_bytes: int, *,
               refusal: Callable[[list[FormProblem]], ValidationFailed] | None = None) -> dict[str, Any]:
    """Read a JSON object body and validate it against the endpoint's schema."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"the request body is larger than {max_bytes} bytes; send less")
    body = request.get_json(silent=True) if request.content_length else {}
    if body is None or not isinstance(body, dict):
        raise ValidationFailed("send a JSON object with Content-Type: application/json",
                               fields={"(body)": "must be a JSON object"})
    refuse_bad_text(body, "(body)")
    problems = form_problems(schema, body)
    if problems and refusal is not None:
        raise refusal(problems)
    if problems:
        raise ValidationFailed("the request body is invalid; correct the fields listed",
                               fields={problem.path: problem.message for problem in problems})
    return body


def parse_form(schema: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """Read a multipart/form-data body: text fields validated by ``schema``, files as bytes per field."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"the request body is larger than {max_bytes} bytes; send fewer or smaller files")
    request.max_content_length = max_bytes
    file_fields = [name for name, spec in schema["properties"].items() if spec.get("type") == "array"
                   and spec.get("items", {}).get("contentMediaType")]
    body: dict[str, Any] = {name: value for name, value in request.form.to_dict().items() if name not in file_fields}
    refuse_bad_text(body, "(body)")
    text_schema = {**schema, "properties": {k: v for k, v in schema["properties"].items() if k not in file_fields},
                   "required": [k for k in schema.get("required", []) if k not in file_fields]}
    fields = form_errors(text_schema, body)
    if fields:
        raise ValidationFailed("the form fields are invalid; correct the fields listed", fields=fields)
    unknown = sorted(set(request.files) - set(file_fields))
    if unknown:  # a photo under another name would be dropped without a word
        raise ValidationFailed("the form has file fields this endpoint does not take; send files as "
                               + ", ".join(file_fields or ["(none)"]),
                               fields={name: f"unknown file field; use {' or '.join(file_fields) or 'no files'}"
                                       for name in unknown})
    for name in file_fields:
        body[name] = [upload.read() for upload in request.files.getlist(name) if upload.filename]
    return body


def refuse_bad_text(value: Any, where: str) -> None:
    """Refuse NUL characters and unpaired surrogates, which no database column can store."""
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_bad_text(key, where)
            refuse_bad_text(item, f"{where}.{key}" if where != "(body)" else str(key))
    elif isinstance(value, list):
        for item in value:
            refuse_bad_text(item, where)
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed("text must be valid Unicode", fields={where: "contains an unpaired surrogate"}
                                   ) from None
        if "\x00" in value:
            raise ValidationFailed("text may not contain NUL characters", fields={where: "contains a NUL character"})
