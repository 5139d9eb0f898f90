"""`/customer/...`: the shop's mobile app. A customer token (``kesuc_``) opens these and nothing else.

Every object is looked up within the token's customer: another customer's complaint, order or
photo is a 404, exactly like one that does not exist.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask_babel import get_locale
from sqlalchemy.exc import IntegrityError

from app.api import api, schemas
from app.api import customer_schemas as cs
from app.api.registry import refuse_bad_text
from app.errors import ValidationFailed
from app.i18n import LANGUAGES
from app.models.customer import Customer
from app.runtime import get_runtime
from app.services import complaints, customer_app, customer_forms, customer_language, outbox
from app.services.complaint_timeline import progress
from app.services.complaints import MAX_FORM_BYTES, Submission
from app.services.order_source import get_order_source
from app.services.uow import run_command
from app.services.uploads import upload_folder

TAG = "customer"
PAGING = {"limit": {"schema": {"type": "integer", "minimum": 1, "maximum": 100}, "default": 20,
                   "description": "at most this many items"}, "offset": schemas.OFFSET}
COMPLAINT_PATH = "/customer/complaints/<int:complaint_id>"
CONFIRM_FIELDS = {"customer_comment": "comment"}   # the confirmation form's field -> CONFIRM_BODY's
INFORMATION_FIELDS = {"additional_info": "answer"}   # the provide_information form's field -> INFORMATION_BODY's


def customer_route(rule: str, method: str, **declared: Any) -> Any:
    """Declare an endpoint opened by customer tokens only."""
    return api.route(rule, method, tag=TAG, permission=None, audience="customer", **declared)


@api.route("/customer/tokens", "POST", summary="Sign in with phone/email and password; get an app token",
           tag=TAG, permission=None, public=True, audience="customer", body=cs.TOKEN_BODY, response=cs.TOKEN,
           status=201, errors=(401, 429), rate_limit="CUSTOMER_SIGNIN_LIMIT")
def create_customer_token(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    now = get_runtime().clock.now()
    customer, token = run_command(lambda: customer_app.sign_in(
        body["login"], body["password"], device=body.get("device") or "app", now=now))
    return {"token": token, "customer": cs.customer(customer)}, 201


@customer_route("/customer/tokens/current", "DELETE", summary="Sign the app out: revoke the token in use",
                response=cs.REVOKED)
def revoke_customer_token(customer: Customer) -> dict[str, Any]:
    now = get_runtime().clock.now()
    token = g.api_customer_token
    run_command(lambda: customer_app.revoke_token(token, now=now))
    return {"revoked": True}


@customer_route("/customer/me", "GET", summary="Who this token signs in", response=cs.CUSTOMER)
def get_me(customer: Customer) -> dict[str, Any]:
    return cs.customer(customer)


@customer_route("/customer/me", "PATCH", summary="Set my language: the one my notifications are written in",
                body=cs.ME_BODY, response=cs.CUSTOMER, errors=(422,), body_refusal=customer_language.refusal)
def update_me(customer: Customer, body: dict[str, Any]) -> dict[str, Any]:
    return run_command(lambda: cs.customer(customer_language.choose(customer.id, body["language"])))


@customer_route("/customer/complaints", "POST", summary="Submit a complaint (JSON, or multipart with photos)",
                body=cs.SUBMIT_BODY, multipart=cs.SUBMIT_FORM, headers=cs.IDEMPOTENCY_HEADER,
                response=cs.COMPLAINT, status=201, errors=(409, 413, 422, 429, 503), max_body=MAX_FORM_BYTES,
                rate_limit="CUSTOMER_SUBMIT_LIMIT")
def submit_complaint(customer: Customer, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    submission = Submission(order_ref=body["order_ref"], category=body["category"], description=body["description"],
                            contact=(body.get("contact") or "").strip() or None, images=body.get("images", []),
                            channel="app", idempotency_key=_idempotency_key(), language=_app_language())
    now, folder = get_runtime().clock.now(), upload_folder()

    def send() -> Any:
        return cs.complaint(customer_app.submit(customer, submission, upload_dir=folder, now=now)[0])
    try:
        return run_command(send), 201
    except IntegrityError:  # a retry raced the first request with the same key: answer as the first did
        return run_command(send), 201


def _app_language() -> str | None:
    """Return the language the app asks for in Accept-Language (None when it sends none the shop speaks)."""
    return request.accept_languages.best_match(list(LANGUAGES))


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    refuse_bad_text(key, "Idempotency-Key")
    if not 0 < len(key) <= 120 or not key.isascii() or not key.isprintable() or " " in key:
        raise ValidationFailed("the Idempotency-Key header must be 1-120 visible ASCII characters, "
                               "e.g. a UUID", fields={"Idempotency-Key": "1-120 visible ASCII characters"})
    return key


@customer_route("/customer/complaints", "GET", summary="List my complaints, newest first", query=PAGING,
                response=cs.COMPLAINT_PAGE, errors=(422,))
def list_my_complaints(customer: Customer, query: dict[str, Any]) -> dict[str, Any]:
    rows, total = customer_app.complaints_page(customer.id, limit=query["limit"], offset=query["offset"])
    return {"items": [cs.complaint_summary(row, progress(row).status) for row in rows], "total": total,
            "limit": query["limit"], "offset": query["offset"]}


@customer_route(COMPLAINT_PATH, "GET", summary="One complaint: timeline, SLA promise, refunds, compensation",
                response=cs.COMPLAINT, errors=(404,))
def get_my_complaint(customer: Customer, complaint_id: int) -> dict[str, Any]:
    return cs.complaint(complaints.customer_complaint(customer.id, complaint_id))


@customer_route(f"{COMPLAINT_PATH}/confirm", "POST", summary="Confirm the resolution (with a 1-5 rating) or reopen",
                body=cs.CONFIRM_BODY, response=cs.COMPLAINT, errors=(404, 409, 422),
                body_refusal=customer_forms.refusal)
def confirm_my_complaint(customer: Customer, complaint_id: int, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, object] = {"satisfied": body["satisfied"]}
    if "csat" in body:
        answer["csat"] = body["csat"]
    if body.get("comment", "").strip():
        answer["customer_comment"] = body["comment"].strip()
    now = get_runtime().clock.now()
    try:
        return run_command(lambda: cs.complaint(complaints.confirm_resolution(customer, complaint_id, answer,
                                                                             now=now)))
    except ValidationFailed as refused:   # name the fields as this body does (the form's customer_comment)
        raise _as_body_names(refused, CONFIRM_FIELDS) from None


def _as_body_names(refused: ValidationFailed, names: dict[str, str]) -> ValidationFailed:
    """The same refusal with each form field named as the endpoint's body names it."""
    return ValidationFailed(refused.message, fields={names.get(name, name): message
                                                     for name, message in refused.fields.items()})


@customer_route(f"{COMPLAINT_PATH}/information", "POST", summary="Answer the agent's question (pending_question); "
                "the complaint goes back to the agent", body=cs.INFORMATION_BODY, response=cs.COMPLAINT,
                errors=(404, 409, 422), body_refusal=customer_forms.refusal)
def answer_my_complaint(customer: Customer, complaint_id: int, body: dict[str, Any]) -> dict[str, Any]:
    now, folder = get_runtime().clock.now(), upload_folder()
    try:
        return run_command(lambda: cs.complaint(complaints.answer_question(customer, complaint_id, body["answer"], [],
                                                                           upload_dir=folder, now=now)))
    except ValidationFailed as refused:   # name the field as this body does (the form's additional_info)
        raise _as_body_names(refused, INFORMATION_FIELDS) from None


@customer_route(f"{COMPLAINT_PATH}/attachments/<int:attachment_id>", "GET", summary="One photo of my complaint",
                response={}, media_types=cs.IMAGE_TYPES, errors=(404,))
def get_my_attachment(customer: Customer, complaint_id: int, attachment_id: int) -> Response:
    attachment = complaints.attachment_for(complaints.customer_complaint(customer.id, complaint_id), attachment_id)
    response = Response((upload_folder() / attachment.stored_name).read_bytes(), mimetype=attachment.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@customer_route("/customer/orders", "GET", summary="List my orders, newest first (from the shop when it has an "
                "order API)", query=PAGING, response=cs.ORDER_PAGE, errors=(422, 503))
def list_my_orders(customer: Customer, query: dict[str, Any]) -> dict[str, Any]:
    source = get_order_source()
    rows, total = run_command(lambda: customer_app.orders_page(customer, source, limit=query["limit"],
                                                               offset=query["offset"]))
    return {"items": [cs.order_summary(row) for row in rows], "total": total, "limit": query["limit"],
            "offset": query["offset"]}


@customer_route("/customer/orders/<order_ref>", "GET", summary="One order: items, amount paid, payment method, "
                "amount refunded", response=cs.ORDER, errors=(404, 503))
def get_my_order(customer: Customer, order_ref: str) -> dict[str, Any]:
    source = get_order_source()
    return run_command(lambda: cs.order(source.customer_order(customer, order_ref)))


@customer_route("/customer/messages", "GET", summary="Messages sent to me (SMS, email, app, portal), newest first",
                query=PAGING, response=cs.MESSAGE_PAGE, errors=(422,))
def list_my_messages(customer: Customer, query: dict[str, Any]) -> dict[str, Any]:
    language = "zh" if str(get_locale() or "").startswith("zh") else "en"
    shown, total = outbox.customer_inbox(customer.id, current_app.jinja_env, language=language,
                                         limit=query["limit"], offset=query["offset"])
    return {"items": [cs.message(m.row, m.subject, m.text) for m in shown], "total": total,
            "limit": query["limit"], "offset": query["offset"]}
