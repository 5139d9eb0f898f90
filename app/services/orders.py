"""Orders from the shop: create one (with its payment), import a CSV, read a customer's own orders."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Payment
from app.models.customer import Customer
from app.models.order import PAYMENT_METHODS, Order

CSV_COLUMNS = ("order_ref", "customer_name", "customer_phone", "customer_email", "items", "amount_paid",
               "currency", "payment_method", "paid_at")


@dataclass(frozen=True)
class OrderInput:
    """One order as the shop describes it."""

    order_ref: str
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    items: list[dict[str, Any]]
    amount_paid: Decimal
    currency: str
    payment_method: str
    paid_at: datetime
    region: str | None = None  # delivery province/region (optional CSV column "region")


def find_or_create_customer(name: str, phone: str | None, email: str | None, *, now: datetime) -> Customer:
    """Return the customer with this phone or email, creating one (no password) if there is none."""
    clauses = [c for c in (Customer.phone == phone if phone else None,
                           Customer.email == email if email else None) if c is not None]
    customer = db.session.execute(select(Customer).where(or_(*clauses))).scalars().first()
    if customer is None:
        customer = Customer(name=name, phone=phone, email=email, tier="normal", created_at=now)
        db.session.add(customer)
        db.session.flush()
    return customer


def create_order(data: OrderInput, *, now: datetime) -> Order:
    """Write the order, its customer if new, and the payments ``Payment`` refunds are paid against."""
    customer = find_or_create_customer(data.customer_name, data.customer_phone, data.customer_email, now=now)
    return add_order(customer, data)


def add_order(customer: Customer, data: OrderInput) -> Order:
    """Write the order for a known customer, with the payments ``Payment`` refunds are paid against."""
    order = Order(order_ref=data.order_ref, customer_id=customer.id, items=data.items,
                  amount_paid=data.amount_paid, currency=data.currency, payment_method=data.payment_method,
                  contact_phone=data.customer_phone, contact_email=data.customer_email, paid_at=data.paid_at,
                  region=data.region)
    db.session.add(order)
    db.session.add(Payment(order_ref=data.order_ref, provider=data.payment_method,
                           provider_payment_id=f"PAY-{data.order_ref}", amount=data.amount_paid,
                           currency=data.currency, amount_reserved=Decimal("0"),
                           amount_refunded=Decimal("0"), paid_at=data.paid_at))
    db.session.flush()
    return order


def order_exists(order_ref: str) -> bool:
    return db.session.execute(select(Order.id).where(Order.order_ref == order_ref)).first() is not None


def parse_row(row: dict[str, str]) -> OrderInput:
    """Turn one CSV row into an order, or raise ValueError saying what to fix."""
    ref = (row.get("order_ref") or "").strip()
    if not ref or len(ref) > 80:
        raise ValueError("order_ref is required (at most 80 characters)")
    phone = (row.get("customer_phone") or "").strip() or None
    email = (row.get("customer_email") or "").strip() or None
    if not phone and not email:
        raise ValueError("give customer_phone or customer_email (sign-in links are sent there)")
    try:
        amount = Decimal((row.get("amount_paid") or "").strip())
    except InvalidOperation:
        raise ValueError(f"amount_paid '{row.get('amount_paid')}' is not a number like 25.80") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("amount_paid must be positive with at most 2 decimals")
    method = (row.get("payment_method") or "").strip()
    if method not in PAYMENT_METHODS:
        raise ValueError(f"payment_method must be one of {', '.join(PAYMENT_METHODS)}, not '{method}'")
    return OrderInput(order_ref=ref, customer_name=(row.get("customer_name") or "").strip() or ref,
                      customer_phone=phone, customer_email=email, items=_items(row.get("items") or "[]"),
                      amount_paid=amount, currency=(row.get("currency") or "CNY").strip().upper(),
                      payment_method=method, paid_at=_time(row.get("paid_at") or ""),
                      region=(row.get("region") or "").strip()[:40] or None)


def _items(text: str) -> list[dict[str, Any]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError('items must be a JSON list like [{"name": "苹果", "qty": 2, "price": 12.9}]') from None
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("name") for i in items):
        raise ValueError("items must be a JSON list of objects, each with a name")
    return items


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"paid_at '{text}' is not an ISO time like 2026-11-20T10:30:00+08:00") from None
    if value.tzinfo is None:
        raise ValueError("paid_at needs a time zone, e.g. 2026-11-20T10:30:00+08:00")
    return value


def import_csv(path: Path, *, now: datetime) -> tuple[int, int]:
    """Import every order of a CSV, or none: raise ValidationFailed listing each bad line.

    Orders whose ``order_ref`` is already known are skipped, so a second import changes nothing.
    Return (imported, skipped).
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed(f"the header lacks the column(s) {', '.join(missing)}",
                                   fields={"line 1": f"expected columns: {','.join(CSV_COLUMNS)}"})
        parsed, errors, seen = [], {}, set()
        for line, row in enumerate(reader, start=2):
            try:
                order = parse_row(row)
                if order.order_ref in seen:
                    raise ValueError(f"order_ref {order.order_ref} appears twice in the file")
                seen.add(order.order_ref)
                parsed.append(order)
            except ValueError as error:
                errors[f"line {line}"] = str(error)
    if errors:
        raise ValidationFailed("nothing was imported; fix the lines listed and import again", fields=errors)
    fresh = [order for order in parsed if not order_exists(order.order_ref)]
    for order in fresh:
        create_order(order, now=now)
    return len(fresh), len(parsed) - len(fresh)


def customer_orders(customer_id: int) -> list[Order]:
    """Return a customer's orders, newest first."""
    return list(db.session.execute(select(Order).where(Order.customer_id == customer_id)
                                   .order_by(Order.paid_at.desc(), Order.id.desc())).scalars())


def customer_order(customer_id: int, order_ref: str) -> Order:
    """Return one of the customer's orders; someone else's is not found (404), like a missing one."""
    order = db.session.execute(select(Order).where(Order.order_ref == order_ref)).scalar_one_or_none()
    if order is None or order.customer_id != customer_id:
        raise order_not_found(order_ref)
    return order


def order_not_found(order_ref: str) -> NotFound:
    """The one answer for a missing order and for someone else's (they must look the same)."""
    return NotFound(_("you have no order %(ref)s; choose one of your orders", ref=order_ref))


def amount_refunded(order: Order) -> Decimal:
    """Return what has been refunded on the order (payments' ledger)."""
    payment = payment_for(order)
    return payment.amount_refunded if payment else Decimal("0")


def payment_for(order: Order) -> Payment | None:
    return db.session.execute(select(Payment).where(Payment.order_ref == order.order_ref)
                              .order_by(Payment.id)).scalars().first()
