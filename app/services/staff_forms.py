"""A task form's problems worded for the staff task page: Chinese first, English after.

The engine checks a submission against the task's JSON Schema and words what is wrong in
English (``workflows/forms.py``, which knows nothing of Flask or languages). The workspace is
Chinese-first, so the page's submission is checked here first with the same schema:
``form_problems`` names the failed keyword per field, and this module words it. The engine then
checks the submission again and finds nothing. The staff API keeps the engine's English.
"""
from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed
from workflows.forms import FormProblem, form_problems

CORRECT_THE_FIELDS = "表单有误，请按标注修改后重新提交 / The form has errors; correct the marked fields and submit again"
# JSON Schema keyword -> message; "{limit}" is the keyword's value in the schema.
MESSAGES: dict[str, str] = {
    "required": "请填写此项 / required",
    "enum": "请从列表中选择一项 / choose one of the listed values",
    "oneOf": "请从列表中选择一项 / choose one of the listed values",
    "const": "此项的值不被接受 / this value is not accepted",
    "minimum": "不能小于 {limit} / must be at least {limit}",
    "exclusiveMinimum": "必须大于 {limit} / must be more than {limit}",
    "maximum": "不能大于 {limit} / must be at most {limit}",
    "exclusiveMaximum": "必须小于 {limit} / must be less than {limit}",
    "minLength": "内容太短，至少 {limit} 个字 / write at least {limit} characters",
    "pattern": "格式不正确 / the format is not right",
    "format": "格式不正确 / the format is not right",
    "multipleOf": "须为 {limit} 的倍数 / must be a multiple of {limit}",
}
TYPES = {"integer": "请填写整数 / enter a whole number", "number": "请填写数字 / enter a number",
         "boolean": "请选择是或否 / choose yes or no", "string": "请填写文字 / enter text"}
OTHER = "此项的值不被接受，请检查 / this value cannot be accepted; check it"


def staff_message(problem: FormProblem) -> str:
    """Return the task page's message for one field's problem."""
    if problem.code == "maxLength" and problem.length is not None:
        return f"内容有 {problem.length} 个字，最多 {problem.limit} 个字 / is {problem.length} characters; " \
               f"write at most {problem.limit}"
    if problem.code == "additionalProperties":
        return "此表单没有这一项 / this form has no such field"
    if problem.code == "type":
        kinds = problem.limit if isinstance(problem.limit, list) else [problem.limit]
        return next((TYPES[kind] for kind in kinds if kind in TYPES), OTHER)
    return MESSAGES.get(problem.code, OTHER).format(limit=problem.limit)


def check_submission(schema: dict[str, Any] | None, data: dict[str, Any]) -> None:
    """Refuse (422, a message per field, Chinese first) a submission that breaks the task's form."""
    if schema is None:
        return
    problems = form_problems(schema, data)
    if problems:
        raise ValidationFailed(CORRECT_THE_FIELDS, fields={problem.path: staff_message(problem)
                                                           for problem in problems})
