"""The customer's mobile app: sign in for a bearer token, revoke it, submit idempotently, page lists.

The app's ``Idempotency-Key`` is remembered with a SHA-256 of what was sent under it, so a
retry (same key, same request) returns the first complaint and the same key with another
request is refused instead of silently answering for something the customer did not send.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.errors import NotAuthenticated, NotFound, ValidationFailed
from app.extensions import db
from app.models.complaint import Complaint
from app.models.customer import Customer, CustomerToken
from app.models.order import Order
from app.services import complaints, customers
from app.services.complaints import DuplicateComplaint, Submission
from app.services.order_source import OrderSource

BAD_LOGIN = "wrong phone/email or password; check them, or sign in with a link sent to your order's phone or email"
KEY_REUSED = ("this Idempotency-Key was already used for a different complaint; use a new key for a new "
              "complaint (resend the same key only with exactly the same request)")


def sign_in(login: str, password: str, *, device: str, now: datetime) -> tuple[Customer, str]:
    """Check the customer's phone/email and password and issue an app token for ``device``."""
    customer = customers.authenticate(login, password)
    if customer is None:
        raise NotAuthenticated(BAD_LOGIN)
    return customer, customers.issue_token(customer.id, name=device, now=now)


def revoke_token(token: str, *, now: datetime) -> None:
    """Revoke the app token (signing the app out); a revoked token opens nothing again."""
    row = db.session.execute(select(CustomerToken).where(
        CustomerToken.token_sha256 == customers.token_digest(token))).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        db.session.flush()


def active_tokens(customer_id: int) -> list[CustomerToken]:
    """Return the customer's app tokens that still open the API (the devices signed in), newest first."""
    return list(db.session.execute(select(CustomerToken).where(
        CustomerToken.customer_id == customer_id, CustomerToken.revoked_at.is_(None))
        .order_by(CustomerToken.created_at.desc(), CustomerToken.id.desc())).scalars())


def revoke_token_of(customer_id: int, token_id: int, *, now: datetime) -> CustomerToken:
    """Revoke one of the customer's app tokens (signing that device out); another customer's is a 404.

    Revoking a token already revoked changes nothing (a second click, a form sent twice).
    """
    row = db.session.get(CustomerToken, token_id)
    if row is None or row.customer_id != customer_id:
        raise NotFound(_("there is no signed-in device %(id)s of yours; reload the page", id=token_id))
    if row.revoked_at is None:
        row.revoked_at = now
        db.session.flush()
    return row


def fingerprint(submission: Submission) -> str:
    """Return a SHA-256 of everything a submission carries (photos by their own SHA-256)."""
    described = {"order_ref": submission.order_ref, "category": submission.category,
                 "description": submission.description, "contact": submission.contact,
                 "images": [hashlib.sha256(raw).hexdigest() for raw in submission.images]}
    return hashlib.sha256(json.dumps(described, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def submit(customer: Customer, submission: Submission, *, upload_dir: Path, now: datetime) -> tuple[Complaint, bool]:
    """Submit from the app; return (complaint, created). A retried key returns the first complaint."""
    digest = fingerprint(submission)
    try:
        complaint, created = complaints.submit(customer, submission, upload_dir=upload_dir, now=now)
    except DuplicateComplaint:
        # A retry racing its first request can see that request's complaint as an open duplicate:
        # it is the same complaint, so answer with it.
        earlier = _by_key(customer.id, submission.idempotency_key)
        if earlier is None:
            raise
        complaint, created = earlier, False
    if created:
        complaint.request_sha256 = digest
        db.session.flush()
    elif complaint.request_sha256 != digest:
        raise ValidationFailed(KEY_REUSED, fields={"Idempotency-Key": "already used for another request"})
    return complaint, created


def _by_key(customer_id: int, key: str | None) -> Complaint | None:
    if key is None:
        return None
    return db.session.execute(select(Complaint).where(Complaint.customer_id == customer_id,
                                                      Complaint.idempotency_key == key)).scalar_one_or_none()


def complaints_page(customer_id: int, *, limit: int, offset: int) -> tuple[list[Complaint], int]:
    """Return one page of the customer's complaints (newest first) and how many there are."""
    mine = select(Complaint).where(Complaint.customer_id == customer_id)
    total = db.session.execute(select(func.count()).select_from(mine.subquery())).scalar_one()
    rows = db.session.execute(mine.order_by(Complaint.id.desc()).limit(limit).offset(offset)).scalars()
    return list(rows), int(total)


def orders_page(customer: Customer, source: OrderSource, *, limit: int, offset: int) -> tuple[list[Order], int]:
    """Return one page of the customer's orders (newest first) from ``source`` and how many there are.

    The shop's API lists a customer's orders whole (and they are copied as seen), so the page is
    cut from that list; a customer has tens of orders, not thousands. When the shop cannot
    answer, ``OrderSystemUnavailable`` (503) is raised and nothing is written.
    """
    rows = source.customer_orders(customer)
    return rows[offset:offset + limit], len(rows)
