"""Dashboard fixtures: the seed processes, staff who sign in, and seeded complaints with known facts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from app.extensions import db
from app.models import Payment, Refund
from app.models.complaint import Complaint
from app.models.customer import Customer
from app.models.order import Order
from app.services import complaint_facts
from tests.support.staff import PASSWORD, sign_in  # noqa: F401  (used by the tests of this folder)


class Seeder:
    """Write complaints (with their facts) and refunds directly, keeping the rollup as the services do."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.customer = Customer(name="测试", phone="13700000000", email="seed@example.com", tier="normal",
                                 created_at=now)
        db.session.add(self.customer)
        db.session.flush()
        self.orders = 0
        self.refunds = 0

    def order(self, product: str = "陶瓷杯", region: str | None = "上海", amount: str = "120.00") -> Order:
        self.orders += 1
        order = Order(order_ref=f"SEED-{self.orders}", customer_id=self.customer.id,
                      items=[{"name": product, "qty": 1, "price": float(amount)}], amount_paid=Decimal(amount),
                      currency="CNY", payment_method="alipay", paid_at=self.now - timedelta(days=60), region=region)
        db.session.add(order)
        db.session.add(Payment(order_ref=order.order_ref, provider="alipay", provider_payment_id=f"P-{order.order_ref}",
                               amount=Decimal(amount), currency="CNY", paid_at=order.paid_at))
        db.session.flush()
        return order

    def complaint(self, created_at: datetime, *, category: str = "product.quality", group: str | None = "tier1-product",
                  channel: str = "web", product: str = "陶瓷杯", region: str | None = "上海",
                  response: timedelta | None = None, resolution: timedelta | None = None,
                  response_sla: timedelta = timedelta(hours=2), resolution_sla: timedelta = timedelta(days=1),
                  csat: int | None = None, satisfied: bool | None = None, confirm_after: timedelta | None = None,
                  text: str = "杯子有裂纹") -> Complaint:
        """Write one complaint through intake's fact recording, then its later facts through the rollup."""
        order = self.order(product, region)
        complaint = Complaint(customer_id=self.customer.id, order_id=order.id, category=category, description=text,
                              channel=channel, created_at=created_at)
        db.session.add(complaint)
        db.session.flush()
        complaint_facts.record_intake(complaint, order)
        before = complaint_facts.contribution(complaint)
        complaint.handling_group = group
        complaint.response_due_at = created_at + response_sla
        complaint.resolution_due_at = created_at + resolution_sla
        complaint.first_response_at = created_at + response if response is not None else None
        complaint.resolved_at = created_at + resolution if resolution is not None else None
        complaint.response_seconds = int(response.total_seconds()) if response is not None else None
        complaint.resolution_seconds = int(resolution.total_seconds()) if resolution is not None else None
        if satisfied is not None and complaint.resolved_at is not None:
            complaint.satisfied, complaint.csat = satisfied, csat
            complaint.confirmed_at = complaint.resolved_at + (confirm_after or timedelta(hours=1))
        complaint_facts.move_contribution(before, complaint)
        return complaint

    def refund(self, complaint: Complaint | None, amount: str, *, state: str = "succeeded", automatic: bool = True,
               created_at: datetime | None = None) -> Refund:
        self.refunds += 1
        order_ref = complaint.order.order_ref if complaint else "SEED-1"
        payment = db.session.query(Payment).filter_by(order_ref=order_ref).one()
        refund = Refund(payment_id=payment.id, provider="alipay", amount=Decimal(amount), currency="CNY", state=state,
                        idempotency_key=f"seed-{self.refunds}", source_key=f"seed:{self.refunds}",
                        requested_by="system" if automatic else "xiaowang",
                        approved_by="system" if automatic else "zhuguan",
                        complaint_id=complaint.reference if complaint else None,
                        created_at=created_at or (complaint.created_at if complaint else self.now),
                        updated_at=self.now)
        db.session.add(refund)
        db.session.flush()
        complaint_facts.record_refund(refund)  # as app/services/refunds.py does
        return refund


@pytest.fixture
def seeder(db_session: Any, clock: Any) -> Seeder:
    return Seeder(clock.now())


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
