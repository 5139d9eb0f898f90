"""Everything the task page shows: the complaint, its classification, timeline, form, templates, comments."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from app.classification.taxonomy import CATEGORIES
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import (Complaint, Customer, ProcessEvent, ProcessInstance, Refund, ReplyTemplate,
                        TaskComment, TaskStatus, User)
from app.models.task import HumanTask
from app.services import classification, staff, task_work
from app.services.complaint_facts import CUSTOMER_GROUP
from app.services.instance_queries import instance_data
from app.services.staff import Identity


@dataclass(frozen=True)
class FormField:
    """One input of a task form, derived from its JSON Schema property."""

    name: str
    title: str
    widget: str                        # select | textarea | number | text | checkbox
    options: list[tuple[str, str]]
    required: bool
    description: str | None


def form_fields(schema: dict[str, Any] | None) -> list[FormField]:
    """Return the inputs of a JSON Schema form in its ``x-order`` (enum/oneOf as labelled choices)."""
    if not schema:
        return []
    properties: dict[str, Any] = schema.get("properties", {})
    order = schema.get("x-order") or list(properties)
    required = set(schema.get("required", []))
    return [_field(name, properties[name], name in required) for name in order if name in properties]


def _field(name: str, prop: dict[str, Any], required: bool) -> FormField:
    options = [(str(o["const"]), o.get("title", str(o["const"]))) for o in prop.get("oneOf", []) if "const" in o]
    options += [(str(v), str(v)) for v in prop.get("enum", [])]
    kind = prop.get("type")
    long_text = prop.get("x-widget") == "textarea" or prop.get("maxLength", 0) > 200
    widget = ("select" if options else "checkbox" if kind == "boolean" else
              "number" if kind in ("number", "integer") else "textarea" if long_text else "text")
    return FormField(name, prop.get("title", name), widget, options, required, prop.get("description"))


def parse_submission(schema: dict[str, Any] | None, form: dict[str, str]) -> dict[str, Any]:
    """Turn posted form values into task data typed by the schema (the engine validates the rest)."""
    properties = (schema or {}).get("properties", {})
    data: dict[str, Any] = {}
    for name, prop in properties.items():
        value = form.get(name, "").strip()
        if prop.get("type") == "boolean":
            data[name] = value in ("on", "true", "1")
        elif value:
            data[name] = _typed(value, prop.get("type"))
    return data


def _typed(value: str, kind: str | None) -> Any:
    try:
        return int(value) if kind == "integer" else float(value) if kind == "number" else value
    except ValueError:
        return value  # left as text: the schema check names the field


def fill_template(template: ReplyTemplate, values: dict[str, Any]) -> str:
    """Return the template's text with customer name, order and amount filled in."""
    amount = values.get("amount", "")
    filled = {**values, "amount": f"{amount:.2f}" if isinstance(amount, (int, float)) else amount}
    text = template.body  # plain replacement: other braces in a knowledge-base text stay as written
    for key in ("customer_name", "order_ref", "amount"):
        text = text.replace("{" + key + "}", str(filled.get(key, "")))
    return text


def reply_from_template(task: HumanTask, template_id: str, *, now: datetime) -> tuple[ReplyTemplate, str]:
    """Return a template offered on this task's page and its text filled in for the task's customer."""
    chosen = next((t for t in templates_for(task.category) if str(t.id) == template_id.strip()), None)
    if chosen is None:
        raise NotFound(f"reply template {template_id!r} is not offered for this task; choose one from the "
                       f"task page's list")
    return chosen, fill_template(chosen, _template_values(task, now=now)[2])


def templates_for(category: str | None) -> list[ReplyTemplate]:
    """Return reply templates for a category and those that fit every category."""
    return list(db.session.execute(select(ReplyTemplate).where(
        ReplyTemplate.archived_at.is_(None),  # archived in the knowledge base: no longer offered
        (ReplyTemplate.category.is_(None)) | (ReplyTemplate.category == category))
        .order_by(ReplyTemplate.name)).scalars())


def add_comment(instance_id: int, body: str, *, author: str, now: datetime) -> TaskComment:
    """Add an internal comment to a complaint (never shown to the customer)."""
    if not body.strip():
        raise ValidationFailed("the comment is empty", fields={"body": "write something before saving"})
    comment = TaskComment(instance_id=instance_id, author=author, body=body.strip()[:2000], created_at=now)
    db.session.add(comment)
    db.session.flush()
    return comment


def correct_classification(task: HumanTask, category: str, emotion: str, *, who: Identity, now: datetime) -> None:
    """Record an agent's category and emotion for the complaint's text, for retraining."""
    text = _complaint_text(task)
    classification.record_correction(text=text, category=category, emotion=emotion, corrected_by=who.username,
                                     now=now, source_ref=task.complaint_ref)


def _complaint_text(task: HumanTask) -> str:
    complaint = _complaint(task.instance_id)
    return complaint.description if complaint else ""


def _complaint(instance_id: int) -> Complaint | None:
    return db.session.execute(select(Complaint).where(Complaint.instance_id == instance_id)).scalars().first()


def page_context(task: HumanTask, *, who: Identity, now: datetime) -> dict[str, Any]:
    """Return what the task page renders for one task."""
    data, complaint, values = _template_values(task, now=now)
    customer = db.session.get(Customer, complaint.customer_id) if complaint else None
    customers_own = task.candidate_group == CUSTOMER_GROUP   # seen by supervisors, never worked by staff
    return {"task": task, "data": data, "complaint": complaint, "customer": customer, "values": values,
            "earlier": _earlier(complaint), "customers_own": customers_own,
            "fields": [] if customers_own else form_fields(task_work.task_form(task)),
            "timeline": _timeline(task.instance_id), "comments": _comments(task.instance_id),
            "templates": templates_for(task.category), "four_eyes": _four_eyes(task, who),
            "confidence": (data.get("classification") or {}).get("category_confidence"),
            "categories": [(category.code, category.label()) for category in CATEGORIES],
            "reassign_to": _reassign_choices(task, who),
            "refund_failure": _refund_failure(task.instance_id) if task.name == "resolve_failed" else None}


def _refund_failure(instance_id: int) -> str | None:
    """Why the case's refund failed: the gateway's last error, else the refusal of the pay_refund call."""
    refund = db.session.execute(select(Refund).where(Refund.instance_id == instance_id)
                                .order_by(Refund.id.desc())).scalars().first()
    if refund is not None and refund.last_error:
        return refund.last_error
    for payload in db.session.execute(select(ProcessEvent.payload).where(
            ProcessEvent.instance_id == instance_id, ProcessEvent.event_type == "service.failed")
            .order_by(ProcessEvent.seq.desc())).scalars():
        failed = json.loads(payload)
        if failed.get("operator") == "pay_refund":
            return str(failed.get("message") or "") or None
    return None


def _template_values(task: HumanTask, *, now: datetime) -> tuple[dict[str, Any], Complaint | None, dict[str, Any]]:
    """Return the instance's data, the complaint and the values a reply template fills in."""
    instance = db.session.get(ProcessInstance, task.instance_id)
    data = instance_data(instance, now=now) if instance else {}
    complaint = _complaint(task.instance_id)
    customer = db.session.get(Customer, complaint.customer_id) if complaint else None
    values = {"customer_name": customer.name if customer else data.get("customer_id", ""),
              "order_ref": data.get("order_ref", ""), "amount": data.get("amount_paid", "")}
    return data, complaint, values


def _reassign_choices(task: HumanTask, who: Identity) -> list[User]:
    """Active staff a supervisor may give this open task to: its group's members first, then the rest."""
    if not who.is_supervisor or task.status != TaskStatus.OPEN.value:
        return []
    active = [user for user in staff.task_workers() if user.username != task.assignee]
    return sorted(active, key=lambda user: (task.candidate_group not in (user.groups or []), user.username))


def _earlier(complaint: Complaint | None) -> list[Complaint]:
    if complaint is None:
        return []
    before = or_(Complaint.created_at < complaint.created_at,
                 and_(Complaint.created_at == complaint.created_at, Complaint.id < complaint.id))
    return list(db.session.execute(select(Complaint).where(
        Complaint.customer_id == complaint.customer_id, Complaint.id != complaint.id, before)
        .order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(10)).scalars())


def _timeline(instance_id: int) -> list[dict[str, Any]]:
    events = db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                .order_by(ProcessEvent.seq)).scalars()
    return [{"at": e.occurred_at, "type": e.event_type, "task": e.task_name, "actor": e.actor,
             "reply": json.loads(e.payload).get("data", {}).get("reply") if e.event_type == "task.submitted"
             else None} for e in events]


def _comments(instance_id: int) -> list[TaskComment]:
    return list(db.session.execute(select(TaskComment).where(TaskComment.instance_id == instance_id)
                                   .order_by(TaskComment.created_at, TaskComment.id)).scalars())


def _four_eyes(task: HumanTask, who: Identity) -> str | None:
    if task.requested_by and task.requested_by == who.username:
        return (f"You requested this ({task.requested_by}); under the four-eyes rule another person must "
                f"approve it. Unclaim it so a colleague can take it.")
    return None
