"""Validate user-task submissions against the task's JSON Schema form."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator


def form_errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """Return {field path: message} for every way ``data`` breaks ``schema`` (empty when valid)."""
    validator = Draft202012Validator(schema)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            path = f"{path}.{missing}" if path else missing
            message = "this field is required"
        elif error.validator == "additionalProperties":
            message = f"unexpected field: {error.message}"
        elif error.validator == "maxLength" and isinstance(error.instance, str):
            # not jsonschema's message, which repeats the whole too-long text back
            message = f"is {len(error.instance)} characters; write at most {error.validator_value}"
        else:
            message = error.message
        errors.setdefault(path or "(form)", message)
    return errors
