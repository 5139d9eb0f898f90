"""Staff sign a customer's app out (a phone reported stolen): find the customer, list the devices signed
in through the app (their ``kesuc_`` tokens), and revoke one or all of them.

Each revocation is a ``customer_token.revoked`` event in the system audit chain with the staff member
as its actor (the customer and token ids only: the device's name stays on the token row, which the
customer's data erasure reaches), and the customer finds a portal message saying which device was
signed out. A revoked token is refused (401) on its next API call. Who may do this (supervisors and
admins) is the view's ``role_required``.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Notification
from app.models.customer import Customer, CustomerToken
from app.services import audit, customer_app

MAX_ID = 2**31 - 1   # ids are 32-bit integers: a larger number names nobody (and PostgreSQL would refuse it)


def find_customer(query: str) -> Customer:
    """Return the customer whose phone or email is ``query``, else whose customer number it is."""
    query = query.strip()
    if not query:
        wanted = _("Enter a phone number, an email address or a customer number.")
        raise ValidationFailed(wanted, fields={"q": wanted})
    customer = db.session.execute(select(Customer).where(or_(Customer.phone == query, Customer.email == query))
                                  .order_by(Customer.id).limit(1)).scalar_one_or_none()
    if customer is None and query.isdigit() and int(query) <= MAX_ID:
        customer = db.session.get(Customer, int(query))
    if customer is None:
        raise NotFound(_("No customer has the phone number, email address or customer number %(query)s; "
                         "check it and search again.", query=query))
    return customer


def get_customer(customer_id: int) -> Customer:
    """Return a customer by number, or a 404 naming the number."""
    customer = db.session.get(Customer, customer_id) if 0 < customer_id <= MAX_ID else None
    if customer is None:
        raise NotFound(_("There is no customer number %(id)s; search by phone number instead.", id=customer_id))
    return customer


def devices(customer_id: int) -> tuple[Customer, list[CustomerToken]]:
    """Return the customer and the devices signed in through their app, newest first."""
    customer = get_customer(customer_id)
    return customer, customer_app.active_tokens(customer.id)


def revoke(customer_id: int, token_id: int, *, actor: str, now: datetime) -> CustomerToken:
    """Sign one of the customer's devices out; a device not signed in (any more) is a 404."""
    customer, signed_in = devices(customer_id)
    token = next((row for row in signed_in if row.id == token_id), None)
    if token is None:
        raise NotFound(_("Customer %(customer)s has no signed-in device %(id)s (it may be signed out already); "
                         "reload the page.", customer=customer.id, id=token_id))
    _revoke(customer, token, actor=actor, now=now)
    return token


def revoke_all(customer_id: int, *, actor: str, now: datetime) -> list[CustomerToken]:
    """Sign every device of the customer out; return those that were signed in (none: nothing is written)."""
    customer, signed_in = devices(customer_id)
    for token in signed_in:
        _revoke(customer, token, actor=actor, now=now)
    return signed_in


def _revoke(customer: Customer, token: CustomerToken, *, actor: str, now: datetime) -> None:
    customer_app.revoke_token_of(customer.id, token.id, now=now)
    audit.record_system_event("customer_token.revoked", {
        "customer_id": customer.id, "token_id": token.id, "by": "staff",
        "before": {"revoked": False}, "after": {"revoked": True}}, actor=actor, now=now)
    db.session.add(Notification(
        channel="portal", recipient=customer.process_id, customer_id=customer.process_id,
        template="device_signed_out", payload={"device": token.name}, status="queued",
        idempotency_key=f"device-signed-out:{token.id}", created_at=now))
    db.session.flush()
