"""Customer sign-in: by password, by a one-time link sent to the order's phone or email, by app token.

A link is an itsdangerous-signed ``{customer, token id, expiry}``; the expiry is checked
against the injected clock (not the wall clock), and a used token id is recorded so the
link signs in once only.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Callable

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.errors import NotAuthenticated, NotFound
from app.extensions import db
from app.models import Notification
from app.models.customer import Customer, CustomerToken, UsedLoginLink
from app.models.order import Order

LINK_SALT = "kesu.customer-login-link"
LINK_LIFETIME = timedelta(minutes=15)
TOKEN_PREFIX = "kesuc_"
BAD_LINK = _l("this sign-in link is invalid, expired or already used; ask for a new one")


def authenticate(login: str, password: str) -> Customer | None:
    """Return the customer whose phone or email and password match, else None."""
    login = login.strip()
    customer = db.session.execute(select(Customer).where(
        or_(Customer.phone == login, Customer.email == login))).scalars().first()
    return customer if customer is not None and customer.check_password(password) else None


def send_login_link(order_ref: str, contact: str, *, secret: str, link_url: Callable[[str], str],
                    now: datetime) -> bool:
    """Queue a one-time sign-in link to the order's phone or email when ``contact`` is one of them.

    Return whether a link was queued; callers answer the same either way, so nobody can
    probe which orders and contacts exist.
    """
    order = db.session.execute(select(Order).where(Order.order_ref == order_ref.strip())).scalar_one_or_none()
    contact = contact.strip()
    if order is None or not contact or contact not in (order.contact_phone, order.contact_email):
        return False
    token_id = secrets.token_urlsafe(16)
    token = URLSafeSerializer(secret, salt=LINK_SALT).dumps(
        {"c": order.customer_id, "j": token_id, "exp": int((now + LINK_LIFETIME).timestamp())})
    channel = "sms" if contact == order.contact_phone else "email"
    db.session.add(Notification(channel=channel, recipient=contact, customer_id=str(order.customer_id),
                                template="login_link", payload={"url": link_url(token), "order_ref": order_ref,
                                                                "minutes": int(LINK_LIFETIME.seconds / 60)},
                                status="queued", idempotency_key=f"login-link:{token_id}", created_at=now))
    db.session.flush()
    return True


def use_login_link(token: str, *, secret: str, now: datetime) -> Customer:
    """Return the customer a valid, unexpired, unused link signs in, and mark it used."""
    try:
        claims = URLSafeSerializer(secret, salt=LINK_SALT).loads(token)
    except BadSignature:
        raise NotAuthenticated(str(BAD_LINK)) from None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) < now.timestamp():
        raise NotAuthenticated(str(BAD_LINK))
    customer = db.session.get(Customer, int(claims["c"]))
    if customer is None:
        raise NotAuthenticated(str(BAD_LINK))
    try:
        with db.session.begin_nested():
            db.session.add(UsedLoginLink(token_id=str(claims["j"]), customer_id=customer.id, used_at=now))
    except IntegrityError:
        raise NotAuthenticated(str(BAD_LINK)) from None
    return customer


def get_customer(customer_id: int) -> Customer | None:
    return db.session.get(Customer, customer_id)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(customer_id: int, *, name: str, now: datetime) -> str:
    """Create an app bearer token for a customer and return it (only its SHA-256 is stored)."""
    if db.session.get(Customer, customer_id) is None:
        raise NotFound(f"there is no customer {customer_id}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(CustomerToken(token_sha256=token_digest(token), customer_id=customer_id, name=name,
                                 created_at=now))
    db.session.flush()
    return token


def customer_for_token(token: str) -> Customer | None:
    """Return the customer owning an unrevoked app token."""
    row = db.session.execute(select(CustomerToken).where(
        CustomerToken.token_sha256 == token_digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return db.session.get(Customer, row.customer_id)
