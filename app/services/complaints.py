"""Complaint intake: validate, write the complaint and its photos, start complaint_handling, in one unit.

Also the customer's reads: their complaints (someone else's is a 404) and its open customer task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.classification.taxonomy import is_category
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import HumanTask, Notification, ProcessInstance, Refund
from app.models.complaint import Complaint, ComplaintAttachment
from app.models.customer import Customer
from app.models.order import Order
from app.services import complaint_facts, customer_forms, customer_language, orders, processes, task_work
from app.services.images import CleanImage, ImageRefused, clean_image
from app.services.order_source import get_order_source
from app.services.uploads import store_with_unit

MAX_TEXT = 300
MAX_IMAGES = 3
MAX_CONTACT = 120
MAX_FORM_BYTES = 16 * 1024 * 1024   # a submission's whole body: three 5 MiB photos and the text
RECENT = timedelta(days=30)
CLOSED_STATUSES = ("completed", "cancelled")


class DuplicateComplaint(Conflict):
    """An open complaint about the same order and category exists; ``complaint_id`` names it."""

    title = "Complaint already open"


@dataclass
class Submission:
    """What a customer sends: the order, category, text, photos (raw bytes), optional contact."""

    order_ref: str
    category: str
    description: str
    contact: str | None = None
    images: list[bytes] = field(default_factory=list)
    channel: str = "web"
    idempotency_key: str | None = None
    language: str | None = None   # the language the customer wrote in (portal or app), taken as theirs if unset


def submit(customer: Customer, submission: Submission, *, upload_dir: Path, now: datetime) -> tuple[Complaint, bool]:
    """Validate and write a complaint with its photos and start its process; return (complaint, created).

    A repeated ``idempotency_key`` returns the first complaint unchanged (created False).
    """
    if submission.idempotency_key:
        earlier = _by_key(customer.id, submission.idempotency_key)
        if earlier is not None:
            return earlier, False
    order, images = _validate(customer, submission)
    _refuse_duplicate(order, submission.category)
    complaint = Complaint(customer_id=customer.id, order_id=order.id, category=submission.category,
                          description=submission.description.strip(), contact=submission.contact or None,
                          channel=submission.channel, idempotency_key=submission.idempotency_key,
                          created_at=now)
    db.session.add(complaint)
    db.session.flush()
    complaint_facts.record_intake(complaint, order)
    for image in images:
        db.session.add(ComplaintAttachment(complaint_id=complaint.id, stored_name=store_with_unit(image, upload_dir),
                                           content_type=image.content_type, size=len(image.data),
                                           width=image.width, height=image.height, created_at=now))
    instance = processes.start_instance("complaint_handling", start_data(customer, complaint, order, len(images),
                                                                        now=now),
                                        actor=f"customer:{customer.id}", now=now,
                                        business_key=complaint.reference)
    complaint.instance_id = instance.id
    db.session.flush()
    customer_language.adopt(customer, submission.language)
    return complaint, True


def _validate(customer: Customer, submission: Submission) -> tuple[Order, list[CleanImage]]:
    """Check every rule and raise one ValidationFailed listing each failing field."""
    fields: dict[str, str] = {}
    order = _own_order(customer, submission.order_ref)
    if order is None:
        fields["order_ref"] = _("choose one of your own orders")
    if not is_category(submission.category):
        fields["category"] = _("choose a category from the list")
    text = submission.description.strip()
    if not text:
        fields["description"] = _("describe the problem in a few words")
    elif len(text) > MAX_TEXT:
        fields["description"] = _("is %(count)d characters; write at most %(max)d", count=len(text), max=MAX_TEXT)
    if submission.contact and len(submission.contact) > MAX_CONTACT:
        fields["contact"] = _("write at most %(max)d characters", max=MAX_CONTACT)
    images = _clean_images(submission.images, fields)
    if fields:
        raise ValidationFailed(_("the complaint was not sent; correct the fields listed"), fields=fields)
    assert order is not None
    return order, images


def _clean_images(raw_images: list[bytes], fields: dict[str, str]) -> list[CleanImage]:
    if len(raw_images) > MAX_IMAGES:
        fields["images"] = _("%(count)d photos sent; send at most %(max)d", count=len(raw_images), max=MAX_IMAGES)
        return []
    cleaned = []
    for number, raw in enumerate(raw_images, start=1):
        try:
            cleaned.append(clean_image(raw))
        except ImageRefused as refused:
            fields[f"images[{number}]"] = _("photo %(number)d %(problem)s", number=number, problem=str(refused))
    return cleaned


def _own_order(customer: Customer, order_ref: str) -> Order | None:
    """Return the customer's order from the order source (OrderSystemUnavailable when the shop is down)."""
    try:
        return get_order_source().customer_order(customer, order_ref)
    except NotFound:
        return None


def _by_key(customer_id: int, key: str) -> Complaint | None:
    return db.session.execute(select(Complaint).where(Complaint.customer_id == customer_id,
                                                      Complaint.idempotency_key == key)).scalar_one_or_none()


def open_duplicate(order: Order, category: str) -> Complaint | None:
    """Return an open complaint about this order in this category, if any."""
    return db.session.execute(
        select(Complaint).join(ProcessInstance, ProcessInstance.id == Complaint.instance_id)
        .where(Complaint.order_id == order.id, Complaint.category == category,
               ProcessInstance.status.not_in(CLOSED_STATUSES)).order_by(Complaint.id)).scalars().first()


def _refuse_duplicate(order: Order, category: str) -> None:
    earlier = open_duplicate(order, category)
    if earlier is not None:
        raise DuplicateComplaint(_("complaint %(ref)s about this order and problem is still open; "
                                   "follow it there instead of sending a new one", ref=earlier.reference),
                                 complaint_id=earlier.id)


def start_data(customer: Customer, complaint: Complaint, order: Order, images: int, *,
               now: datetime) -> dict[str, object]:
    """Return complaint_handling's start data (docs/processes.md, "Start data")."""
    payment = orders.payment_for(order)
    recent = select(Complaint.id).where(Complaint.customer_id == customer.id,
                                        Complaint.created_at >= now - RECENT, Complaint.id != complaint.id)
    recent_refs = [f"C-{cid}" for cid in db.session.execute(recent).scalars()]
    auto_refunds = db.session.execute(select(func.count(Refund.id)).where(
        Refund.complaint_id.in_(recent_refs), Refund.requested_by == "system")).scalar() if recent_refs else 0
    return {"complaint_id": complaint.reference, "order_ref": order.order_ref,
            "payment_id": payment.id if payment else None, "amount_paid": float(order.amount_paid),
            "already_refunded": float(payment.amount_refunded) if payment else 0.0, "currency": order.currency,
            "chosen_category": complaint.category, "text": complaint.description, "images": images,
            "customer_id": customer.process_id, "customer_tier": customer.tier,
            "recent_complaints": len(recent_refs), "recent_auto_refunds": int(auto_refunds or 0)}


def customer_complaints(customer_id: int) -> list[Complaint]:
    """Return the customer's complaints, newest first."""
    return list(db.session.execute(select(Complaint).where(Complaint.customer_id == customer_id)
                                   .order_by(Complaint.id.desc())).scalars())


def customer_complaint(customer_id: int, complaint_id: int) -> Complaint:
    """Return one of the customer's complaints; another customer's is not found (404)."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or complaint.customer_id != customer_id:
        raise NotFound(_("you have no complaint %(id)s; open it from your list of complaints", id=complaint_id))
    return complaint


def open_customer_task(complaint: Complaint, name: str = "confirm_resolution") -> HumanTask | None:
    """Return the complaint's open customer task of that name (confirm_resolution, request_info)."""
    if complaint.instance_id is None:
        return None
    return db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == complaint.instance_id, HumanTask.name == name, HumanTask.status == "open",
        HumanTask.candidate_group == "customer")).scalars().first()


def confirm_resolution(customer: Customer, complaint_id: int, answer: dict[str, object], *,
                       now: datetime) -> Complaint:
    """Complete the customer's "confirm resolution" task with their answer (satisfied, csat, comment)."""
    complaint = customer_complaint(customer.id, complaint_id)
    task = open_customer_task(complaint)
    if task is None:
        raise Conflict(_("this complaint is not waiting for your confirmation; reload the page to see where it is"))
    customer_forms.check_answer(task_work.task_form(task), answer)   # worded for the customer, not the engine's English
    processes.complete_task(task.task_id, answer, actor=f"customer:{customer.id}", now=now)
    return complaint


@dataclass(frozen=True)
class PendingQuestion:
    """The agent's open question to the customer (request_info) and when the answer is due."""

    question: str
    deadline: datetime | None


def pending_question(complaint: Complaint) -> PendingQuestion | None:
    """Return the question the customer is asked while request_info is open (None otherwise).

    The question is the one the customer was sent (the information_requested message's payload,
    i.e. the agent's info_request); the deadline is the task's 72-hour boundary timer.
    """
    task = open_customer_task(complaint, "request_info")
    if task is None:
        return None
    asked = db.session.execute(select(Notification.payload).where(
        Notification.instance_id == complaint.instance_id, Notification.template == "information_requested")
        .order_by(Notification.id.desc()).limit(1)).scalar()
    return PendingQuestion(question=str((asked or {}).get("question") or ""), deadline=task.due_at)


def answer_question(customer: Customer, complaint_id: int, answer: str, images: list[bytes], *,
                    upload_dir: Path, now: datetime) -> Complaint:
    """Complete the customer's request_info task with their answer (and up to 3 re-encoded photos).

    The answer is checked against the task's form (provide_information) in the customer's language
    before anything is written; the process then goes back to the stage that asked (the BPMN).
    """
    complaint = customer_complaint(customer.id, complaint_id)
    task = open_customer_task(complaint, "request_info")
    if task is None:
        raise Conflict(_question_closed(complaint))
    data: dict[str, object] = {"additional_info": answer.strip()}
    fields: dict[str, str] = {}
    cleaned = _clean_images(images, fields)
    if cleaned:
        data["additional_images"] = len(cleaned)
    try:
        customer_forms.check_answer(task_work.task_form(task), data)
    except ValidationFailed as refused:
        fields = {**refused.fields, **fields}
    if fields:
        raise ValidationFailed(str(customer_forms.CORRECT_THE_FIELDS), fields=fields)
    for image in cleaned:
        db.session.add(ComplaintAttachment(complaint_id=complaint.id, stored_name=store_with_unit(image, upload_dir),
                                           content_type=image.content_type, size=len(image.data),
                                           width=image.width, height=image.height, created_at=now))
    processes.complete_task(task.task_id, data, actor=f"customer:{customer.id}", now=now, task=task)
    return complaint


def _question_closed(complaint: Complaint) -> str:
    """Say why there is no open question: answered already, or the 72 hours ran out."""
    last = db.session.execute(select(HumanTask.status).where(
        HumanTask.instance_id == complaint.instance_id, HumanTask.name == "request_info")
        .order_by(HumanTask.id.desc()).limit(1)).scalar()
    if last == "completed":
        return _("You have already answered this question; we are handling your complaint again")
    if last == "cancelled":
        return _("The 72 hours to answer have passed, so the question is closed; submit a new complaint if you "
                 "still need help")
    return _("This complaint is not waiting for information from you; reload the page to see where it is")


def attachment_for(complaint: Complaint, attachment_id: int) -> ComplaintAttachment:
    """Return one photo of the complaint (404 if it belongs to another)."""
    for attachment in complaint.attachments:
        if attachment.id == attachment_id:
            return attachment
    raise NotFound(_("complaint %(ref)s has no photo %(id)s", ref=complaint.reference, id=attachment_id))
