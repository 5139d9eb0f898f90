"""Copies of one submit racing (the app retried before the first answer came): one complaint, one answer."""
from __future__ import annotations

import io
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models.complaint import Complaint
from app.models.customer import Customer
from app.services import customers, orders
from tests.customer.conftest import image_bytes
from tests.support.complaints import ProcessDriver


@pytest.fixture
def customer_header(committed_app: Flask) -> Iterator[Callable[[], dict[str, str]]]:
    """Deploy the processes, create a customer with order O-1 (committed) and return their token header."""
    clock = committed_app.extensions["kesu.runtime"].clock
    drivers: list[ProcessDriver] = []

    def make() -> dict[str, str]:
        with committed_app.app_context():
            drivers.append(ProcessDriver(committed_app, clock))
            customer = Customer(name="张三", phone="13800000001", email="z@example.com", tier="normal",
                                created_at=clock.now())
            db.session.add(customer)
            db.session.flush()
            orders.create_order(orders.OrderInput(
                order_ref="O-1", customer_name="张三", customer_phone="13800000001", customer_email="z@example.com",
                items=[{"name": "陶瓷杯", "qty": 1, "price": 120}], amount_paid=Decimal("120.00"), currency="CNY",
                payment_method="alipay", paid_at=datetime(2026, 11, 1, 8, tzinfo=timezone.utc)), now=clock.now())
            token = customers.issue_token(customer.id, name="phone", now=clock.now())
            db.session.commit()
            db.session.remove()
        return {"Authorization": f"Bearer {token}"}
    yield make
    for driver in drivers:
        driver.restore()


def test_racing_retries_with_one_key_make_one_complaint(committed_app: Flask, customer_header,
                                                        tmp_path: Path) -> None:
    committed_app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    header = {**customer_header(), "Idempotency-Key": "race-key"}
    start = threading.Barrier(3)
    answers: list[tuple[int, Any]] = []

    def post() -> None:
        data = {"order_ref": "O-1", "category": "product.quality", "description": "杯子有裂纹",
                "images": [(io.BytesIO(image_bytes()), "p.png")]}
        client = committed_app.test_client()
        start.wait()
        response = client.post("/api/v1/customer/complaints", data=data, content_type="multipart/form-data",
                               headers=header)
        answers.append((response.status_code, response.get_json()))
    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201, 201, 201], answers
    assert len({body["id"] for _, body in answers}) == 1
    with committed_app.app_context():
        assert db.session.execute(select(func.count(Complaint.id))).scalar() == 1
        db.session.remove()
