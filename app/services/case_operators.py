"""Operators of the complaint process: notify (outbox), QA sampling and knowledge-base archiving.

Each is synchronous and writes in the instance's own transaction, so its row commits
together with the step that wrote it; the call's idempotency key makes a repeated step
write nothing new.
"""
from __future__ import annotations

import hashlib
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models.complaint import Complaint
from app.models.knowledge import KnowledgeCase
from app.models.notification import Notification, NotificationStatus
from app.models.payment import Refund
from app.payments.states import RefundState
from workflows.services import ServiceCall, ServiceError

QA_SAMPLE_BUCKETS = 10  # one case in ten


class OperatorRegistry(Protocol):
    def register(self, name: str, handler: Any, *, parameters: tuple[str, ...] = (),
                 description: str = "") -> Any: ...


def _required(call: ServiceCall, *names: str) -> dict[str, Any]:
    missing = [name for name in names if call.params.get(name) in (None, "")]
    if missing:
        raise ServiceError(f"{call.operator} needs the parameter(s) {', '.join(missing)}", code="invalid_input")
    return call.params


def _write_notification(call: ServiceCall, *, channel: str, recipient: str, customer_id: str | None) -> int:
    params = call.params
    values = dict(channel=channel, recipient=recipient, customer_id=customer_id,
                  complaint_id=str(params.get("complaint_id") or "") or None, instance_id=call.instance_id,
                  template=str(params["template"]), payload=dict(params.get("payload") or {}),
                  status=NotificationStatus.QUEUED.value, idempotency_key=call.idempotency_key,
                  created_at=call.now)
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(Notification).values(**values)
                       .on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return db.session.execute(select(Notification.id).where(
        Notification.idempotency_key == call.idempotency_key)).scalar_one()


def notify_customer(call: ServiceCall) -> dict[str, Any]:
    """Write one outbox message to the complaint's customer (once per step)."""
    params = _required(call, "customer_id", "template")
    channel = str(params.get("channel") or "portal")
    notification_id = _write_notification(call, channel=channel, recipient=str(params["customer_id"]),
                                          customer_id=str(params["customer_id"]))
    return {"notification_id": notification_id, "template": params["template"], "channel": channel}


def notify_staff(call: ServiceCall) -> dict[str, Any]:
    """Write one outbox message to a staff group (SLA alerts and the like)."""
    params = _required(call, "group", "template")
    notification_id = _write_notification(call, channel="staff", recipient=str(params["group"]),
                                          customer_id=None)
    return {"notification_id": notification_id, "template": params["template"], "group": params["group"]}


def qa_bucket(complaint_id: str) -> int:
    """Return the complaint's fixed sampling bucket (0-9) from a SHA-256 of its id."""
    return int(hashlib.sha256(complaint_id.encode("utf-8")).hexdigest(), 16) % QA_SAMPLE_BUCKETS


def sample_for_qa(call: ServiceCall) -> dict[str, Any]:
    """Decide whether a closed case goes to QA review: bucket 0 of ten, the same every run."""
    bucket = qa_bucket(str(_required(call, "complaint_id")["complaint_id"]))
    return {"sampled": bucket == 0, "bucket": bucket}


def archive_case(call: ServiceCall) -> dict[str, Any]:
    """Store the closed case (category, resolution, reply) in the knowledge base.

    The resolution is the last outcome plus the refunds paid for the complaint: a complaint
    refunded and then answered once more (a reopen) is a refund case, not a "reply", for whoever
    looks for a precedent. (The customer's rating is recorded after this step, in the same
    command; the case page reads it from the complaint.)
    """
    params = _required(call, "complaint_id", "category", "resolution")
    complaint_id = str(params["complaint_id"])
    resolution = _resolution(complaint_id, str(params["resolution"]))  # read before a new case is pending
    case = db.session.execute(select(KnowledgeCase).where(
        KnowledgeCase.complaint_id == complaint_id)).scalar_one_or_none()
    if case is None:
        case = KnowledgeCase(complaint_id=complaint_id, created_at=call.now)
        db.session.add(case)
    case.category, case.resolution = str(params["category"]), resolution
    case.reply = params.get("reply") or None
    case.summary = _complaint_text(complaint_id)
    db.session.flush()
    return {"knowledge_case_id": case.id}


PAID_STATES = (RefundState.SUCCEEDED.value, RefundState.PAID_MANUALLY.value, RefundState.RECONCILED.value)


def _resolution(reference: str, outcome: str) -> str:
    """``outcome`` with the refunds paid for complaint ``reference`` (at most 80 characters)."""
    paid = db.session.execute(select(func.sum(Refund.amount)).where(
        Refund.complaint_id == reference, Refund.state.in_(PAID_STATES))).scalar()
    return (f"{outcome} · 退款 refunded ¥{paid:.2f}" if paid else outcome)[:80]


def _complaint_text(reference: str) -> str | None:
    """The text of complaint ``C-<id>`` (None for instances started without a stored complaint)."""
    if not (reference.startswith("C-") and reference[2:].isdigit()):
        return None
    return db.session.execute(select(Complaint.description).where(Complaint.id == int(reference[2:]))
                              ).scalar_one_or_none()


def register_operators(registry: OperatorRegistry) -> None:
    """Register the complaint process's operators."""
    registry.register("notify_customer", notify_customer,
                      parameters=("customer_id", "complaint_id", "template", "payload", "channel"),
                      description="Write a message to the customer into the notification outbox")
    registry.register("notify_staff", notify_staff, parameters=("group", "complaint_id", "template", "payload"),
                      description="Write a message to a staff group into the notification outbox")
    registry.register("sample_for_qa", sample_for_qa, parameters=("complaint_id",),
                      description="Deterministic 10% QA sample from a SHA-256 of the complaint id")
    registry.register("archive_case", archive_case, parameters=("complaint_id", "category", "resolution", "reply"),
                      description="Archive a closed case to the knowledge base")
