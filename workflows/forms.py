"""Validate user-task submissions against the task's JSON Schema form.

``form_problems`` says, per field, which JSON Schema keyword failed (``required``, ``maximum``,
``maxLength``, ``type`` ...) with the keyword's value, so an application can word the message in
its reader's language; ``form_errors`` is the same list as English text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class FormProblem:
    """One field's first failure: ``code`` is the JSON Schema keyword, ``limit`` its value in the schema.

    For an unknown field (``additionalProperties``) ``path`` names it and ``limit`` lists the fields the
    form takes.
    """

    path: str
    code: str
    message: str
    limit: Any = None
    length: int | None = None    # maxLength/minLength: how long the text sent was


def form_problems(schema: dict[str, Any], data: dict[str, Any]) -> list[FormProblem]:
    """Return the first problem of every field where ``data`` breaks ``schema`` (empty when valid)."""
    validator = Draft202012Validator(schema)
    found: dict[str, FormProblem] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        length = None
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            path = f"{path}.{missing}" if path else missing
            message = "this field is required"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # one problem per unknown field, named, with the fields the form does take (``limit``)
            known = list((error.schema.get("properties") or {}) if isinstance(error.schema, dict) else [])
            for extra in sorted(set(error.instance) - set(known)):
                where = f"{path}.{extra}" if path else str(extra)
                found.setdefault(where, FormProblem(where, "additionalProperties",
                                                    f"unknown field; send {', '.join(known) or 'no fields'}",
                                                    known))
            continue
        elif error.validator == "additionalProperties":
            message = f"unexpected field: {error.message}"
        elif error.validator == "maxLength" and isinstance(error.instance, str):
            # not jsonschema's message, which repeats the whole too-long text back
            length = len(error.instance)
            message = f"is {length} characters; write at most {error.validator_value}"
        else:
            message = error.message
        path = path or "(form)"
        if path not in found:
            found[path] = FormProblem(path, str(error.validator), message,
                                      None if error.validator == "required" else error.validator_value, length)
    return list(found.values())


def form_errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """Return {field path: message} for every way ``data`` breaks ``schema`` (empty when valid)."""
    return {problem.path: problem.message for problem in form_problems(schema, data)}
