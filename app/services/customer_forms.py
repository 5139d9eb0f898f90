"""The customer's process forms (the 72-hour confirmation, the answer to a question) in their language.

The engine validates a task's answer against its JSON Schema and words what is wrong in English
(``workflows/forms.py``, which knows nothing of Flask or languages). A customer must read it in
their own language, so the answer is checked here first with the same schema:
``form_problems`` names the failed keyword per field, and this module words it through the
catalogue (``app/translations``). The engine then checks the answer again and finds nothing.
The API's confirm endpoint words its body's refusals the same way (``refusal``).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import ValidationFailed
from workflows.forms import FormProblem, form_problems

CORRECT_THE_FIELDS = _l("Your answer is not complete yet; correct what is marked and send it again")
# (field, JSON Schema keyword) -> the customer's message; "*" is every other keyword of that field.
MESSAGES: dict[tuple[str, str], Any] = {
    ("satisfied", "required"): _l("Tell us whether your problem is solved"),
    ("satisfied", "*"): _l("Answer yes (solved) or no (not solved)"),
    ("csat", "required"): _l("Choose a rating from 1 to 5"),
    ("csat", "*"): _l("The rating is a whole number from 1 to 5"),
    ("customer_comment", "required"): _l("Tell us what is still wrong, so that we can handle it again"),
    ("customer_comment", "minLength"): _l("Tell us what is still wrong, so that we can handle it again"),
    ("customer_comment", "*"): _l("Write the comment as text"),
    ("additional_info", "required"): _l("Write your answer to the question (at least 2 characters)"),
    ("additional_info", "minLength"): _l("Write your answer to the question (at least 2 characters)"),
    ("additional_info", "*"): _l("Write the answer as text"),
    ("additional_images", "*"): _l("Add at most 3 photos"),
}
OTHER = _l("This answer cannot be accepted; check it and send it again")
ALIASES = {"comment": "customer_comment", "answer": "additional_info"}   # the API body's name of a form field


def customer_message(problem: FormProblem) -> str:
    """Return the customer's message (in the request's language) for one field's problem."""
    if problem.code == "maxLength" and problem.length is not None:
        return _("The text is %(count)d characters long; write at most %(max)d", count=problem.length,
                 max=problem.limit)
    if problem.code == "additionalProperties":   # the path names the field; say which ones the form takes
        return _("Unknown field; send only %(fields)s", fields=", ".join(problem.limit or []))
    field = ALIASES.get(problem.path, problem.path)
    text = MESSAGES.get((field, problem.code)) or MESSAGES.get((field, "*")) or OTHER
    return str(text)


def check_answer(schema: dict[str, Any] | None, answer: dict[str, Any]) -> None:
    """Refuse (422, fields in the customer's language) an answer that breaks the task's form."""
    if schema is None:
        return
    problems = form_problems(schema, answer)
    if problems:
        raise refusal(problems)


def refusal(problems: list[FormProblem]) -> ValidationFailed:
    """Return the 422 for these problems, worded for the customer (also the API's confirm body refusal)."""
    return ValidationFailed(str(CORRECT_THE_FIELDS),
                            fields={problem.path: customer_message(problem) for problem in problems})
