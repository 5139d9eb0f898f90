"""JSON Schemas and representations of the customer endpoints (`/api/v1/customer/...`)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import url_for

from app.api.schemas import ID, OPTIONAL_TEXT, OPTIONAL_TIME, TIME, items_of, obj
from app.classification.taxonomy import CATEGORY_CODES
from app.i18n import LANGUAGES
from app.models.complaint import Complaint
from app.models.customer import Customer
from app.models.notification import Notification
from app.models.order import PAYMENT_METHODS, Order
from app.services import complaints, orders
from app.services.complaint_timeline import Progress, progress

MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "description": "an amount like 25.80"}
STATUS = {"enum": ["processing", "resolved", "closed"],
          "description": "processing (red), resolved: waiting for your confirmation (green), closed (grey)"}
PAGE = {"total": {"type": "integer", "minimum": 0}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")

TOKEN_BODY = obj({
    "login": {"type": "string", "minLength": 1, "maxLength": 254, "description": "phone or email"},
    "password": {"type": "string", "minLength": 1, "maxLength": 200},
    "device": {"type": "string", "minLength": 1, "maxLength": 120,
               "description": "a name for this token, e.g. the phone's model"},
}, required=["login", "password"])
LANGUAGE = {"enum": [*LANGUAGES, None], "description": "the language my notifications are written in "
            f"({', '.join(f'{code}: {name}' for code, name in LANGUAGES.items())}); null: the shop's default"}
CUSTOMER = obj({"id": ID, "name": {"type": "string"}, "phone": OPTIONAL_TEXT, "email": OPTIONAL_TEXT,
                "language": LANGUAGE})
ME_BODY = obj({"language": LANGUAGE})
TOKEN = obj({"token": {"type": "string", "pattern": "^kesuc_"}, "customer": CUSTOMER})
REVOKED = obj({"revoked": {"const": True}})

_SUBMIT_FIELDS = {
    "order_ref": {"type": "string", "minLength": 1, "maxLength": 80, "description": "one of your orders"},
    "category": {"enum": list(CATEGORY_CODES), "description": "a category code of the taxonomy"},
    "description": {"type": "string", "minLength": 1, "maxLength": complaints.MAX_TEXT},
    "contact": {"type": "string", "maxLength": complaints.MAX_CONTACT},
}
SUBMIT_BODY = obj(_SUBMIT_FIELDS, required=["order_ref", "category", "description"])
SUBMIT_FORM = obj({**_SUBMIT_FIELDS, "images": {
    "type": "array", "maxItems": complaints.MAX_IMAGES,
    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
    "description": "up to 3 photos (JPEG, PNG or WebP, 5 MiB each); EXIF and GPS are removed"}},
    required=["order_ref", "category", "description"])
IDEMPOTENCY_HEADER = {"Idempotency-Key": {
    "schema": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": "^[\\x21-\\x7e]+$"},
    "description": "a new random key per complaint; resending it returns the first answer and never "
                   "creates a second complaint"}}

ATTACHMENT = obj({"id": ID, "content_type": {"enum": list(IMAGE_TYPES)}, "width": {"type": "integer"},
                  "height": {"type": "integer"}, "size": {"type": "integer"}, "url": {"type": "string"}})
COMPLAINT_SUMMARY = obj({
    "id": ID, "reference": {"type": "string"}, "order_ref": {"type": "string"}, "category": {"type": "string"},
    "description": {"type": "string"}, "contact": OPTIONAL_TEXT, "status": STATUS, "created_at": TIME,
})
COMPLAINT = obj({
    **COMPLAINT_SUMMARY["properties"],
    "reply_by": {**OPTIONAL_TIME, "description": "we will reply by then (the SLA promise)"},
    "awaiting_confirmation": {"type": "boolean", "description": "confirm with POST .../confirm"},
    "pending_question": {"oneOf": [{"type": "null"}, obj({
        "question": {"type": "string", "description": "what the agent needs to know"},
        "deadline": {**OPTIONAL_TIME, "description": "answer by then, or the complaint is closed"}})],
        "description": "the agent's open question; answer with POST .../information"},
    "timeline": {"type": "array", "items": obj({"at": TIME, "text": {"type": "string"}})},
    "refunds": {"type": "array", "items": obj({"amount": MONEY, "currency": {"type": "string"},
                                              "state": {"type": "string"}, "state_label": {"type": "string"},
                                              "created_at": TIME})},
    "compensation": {"oneOf": [{"type": "null"}, obj({"type": {"type": "string"}, "value": {"type": "number"},
                                                      "label": {"type": "string"}})]},
    "attachments": {"type": "array", "items": ATTACHMENT},
})
COMPLAINT_PAGE = obj({**items_of(COMPLAINT_SUMMARY)["properties"], **PAGE})
CONFIRM_BODY = obj({
    "satisfied": {"type": "boolean", "description": "true: solved; false: reopen it"},
    "csat": {"type": "integer", "minimum": 1, "maximum": 5, "description": "how satisfied, 1-5"},
    "comment": {"type": "string", "minLength": 1, "maxLength": 500},
}, required=["satisfied"])
INFORMATION_BODY = obj({
    "answer": {"type": "string", "minLength": 1, "maxLength": complaints.MAX_TEXT,
               "description": "your answer to pending_question (2-300 characters)"},
})
ORDER_SUMMARY = obj({"order_ref": {"type": "string"}, "amount_paid": MONEY, "currency": {"type": "string"},
                     "payment_method": {"enum": list(PAYMENT_METHODS)}, "paid_at": TIME})
ORDER = obj({**ORDER_SUMMARY["properties"], "amount_refunded": MONEY,
             "items": {"type": "array", "items": {"type": "object"}}})
ORDER_PAGE = obj({**items_of(ORDER_SUMMARY)["properties"], **PAGE})
MESSAGE = obj({"id": ID, "channel": {"type": "string"}, "template": {"type": "string"},
               "complaint_id": OPTIONAL_TEXT, "subject": {"type": "string"}, "text": {"type": "string"},
               "created_at": TIME, "sent_at": OPTIONAL_TIME})
MESSAGE_PAGE = obj({**items_of(MESSAGE)["properties"], **PAGE})


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def customer(row: Customer) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "phone": row.phone, "email": row.email, "language": row.language}


def complaint_summary(row: Complaint, status: str) -> dict[str, Any]:
    return {"id": row.id, "reference": row.reference, "order_ref": row.order.order_ref, "category": row.category,
            "description": row.description, "contact": row.contact, "status": status,
            "created_at": _time(row.created_at)}


def complaint(row: Complaint) -> dict[str, Any]:
    """The complaint as its progress page shows it: timeline, SLA promise, refunds, compensation."""
    shown: Progress = progress(row)
    return {**complaint_summary(row, shown.status), "reply_by": _time(shown.reply_by),
            "awaiting_confirmation": complaints.open_customer_task(row) is not None,
            "pending_question": _question(complaints.pending_question(row)),
            "timeline": [{"at": _time(entry.at), "text": entry.text} for entry in shown.timeline],
            "refunds": [{**refund, "created_at": _time(refund["created_at"])} for refund in shown.refunds],
            "compensation": shown.compensation,
            "attachments": [{"id": a.id, "content_type": a.content_type, "width": a.width, "height": a.height,
                             "size": a.size, "url": url_for("api.get_my_attachment", complaint_id=row.id,
                                                            attachment_id=a.id)}
                            for a in row.attachments]}


def _question(pending: complaints.PendingQuestion | None) -> dict[str, Any] | None:
    return None if pending is None else {"question": pending.question, "deadline": _time(pending.deadline)}


def message(row: Notification, subject: str, text: str) -> dict[str, Any]:
    return {"id": row.id, "channel": row.channel, "template": row.template, "complaint_id": row.complaint_id,
            "subject": subject, "text": text, "created_at": _time(row.created_at), "sent_at": _time(row.sent_at)}


def order_summary(row: Order) -> dict[str, Any]:
    return {"order_ref": row.order_ref, "amount_paid": _money(row.amount_paid), "currency": row.currency,
            "payment_method": row.payment_method, "paid_at": _time(row.paid_at)}


def order(row: Order) -> dict[str, Any]:
    return {**order_summary(row), "amount_refunded": _money(orders.amount_refunded(row)), "items": list(row.items)}
