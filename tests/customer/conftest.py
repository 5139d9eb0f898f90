"""Customer fixtures: customers with orders (and payments), images, the seed processes deployed."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from PIL import Image

from app.extensions import db
from app.models.customer import Customer
from app.models.order import Order
from app.services import orders
from tests.customer.fake_shop import shop  # noqa: F401  (the fake shop's order API, a shared fixture)


@pytest.fixture
def upload_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Photos go to a per-test folder."""
    saved = app.config.get("UPLOAD_DIR")
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = saved


@pytest.fixture
def make_customer(db_session: Any, clock: Any) -> Callable[..., Customer]:
    """Create a customer with a password and one paid order per ``orders`` entry."""
    def make(name: str = "张三", phone: str = "13800000001", password: str = "secret-pw",
             order_refs: tuple[str, ...] = ("O-1",), amount: str = "120.00", tier: str = "normal") -> Customer:
        customer = Customer(name=name, phone=phone, email=f"{phone}@example.com", tier=tier,
                            created_at=clock.now())
        customer.set_password(password)
        db.session.add(customer)
        db.session.flush()
        for ref in order_refs:
            orders.create_order(orders.OrderInput(
                order_ref=ref, customer_name=name, customer_phone=phone, customer_email=f"{phone}@example.com",
                items=[{"name": "陶瓷杯", "qty": 2, "price": float(amount) / 2}], amount_paid=Decimal(amount),
                currency="CNY", payment_method="alipay", paid_at=datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
                now=clock.now())
        db.session.commit()
        return customer
    return make


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 24), exif: bool = False) -> bytes:
    """A small real image in ``fmt`` (JPEG with GPS EXIF when asked)."""
    image = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "PhoneMaker"
        tags[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
        image.save(out, fmt, exif=tags)
    else:
        image.save(out, fmt)
    return out.getvalue()


def order_of(ref: str) -> Order:
    from sqlalchemy import select
    return db.session.execute(select(Order).where(Order.order_ref == ref)).scalar_one()
