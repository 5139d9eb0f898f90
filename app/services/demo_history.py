"""Demo history for the embedded default: a few hundred closed complaints over the past weeks.

They stand for cases handled before Kesu was installed (imported history): each has its
order, facts and refunds as the services would have recorded them, and no process instance.
Loaded once; a second run adds nothing.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from app.classification.taxonomy import CATEGORIES
from app.extensions import db
from app.models import Refund
from app.models.complaint import Complaint
from app.models.order import Order
from app.services import complaint_facts, orders
from app.services.orders import OrderInput

GROUP_OF = {"product": "tier1-product", "delivery": "tier1-logistics", "order": "tier1-billing",
            "service": "supervisors", "other": "tier1-product"}
PRODUCTS = [("有机苹果 5kg", "36.50"), ("陶瓷马克杯", "25.80"), ("无线耳机", "299.00"), ("空气炸锅", "1299.00"),
            ("保温杯", "89.00"), ("纯棉T恤", "59.00"), ("猫粮 2kg", "45.00"), ("蓝牙音箱", "199.00")]
REGIONS = ["上海", "北京", "广东", "浙江", "江苏", "四川", "湖北", "山东"]
TEXTS = {"product": "收到的商品有问题，希望尽快处理", "delivery": "快递迟迟不到，包装也破了",
         "order": "订单金额不对，多扣了钱",
         "service": "客服态度很差，一直不回复", "other": "有其他问题需要处理"}
MARKER = "KS-HIST-0001"


def load_demo_history(*, now: datetime, count: int = 360, weeks: int = 8) -> int:
    """Write ``count`` closed complaints spread over the last ``weeks`` weeks; return how many were new."""
    if orders.order_exists(MARKER):
        return 0
    rng = random.Random(2026)
    for number in range(1, count + 1):
        created = now - timedelta(seconds=rng.randrange(weeks * 7 * 86400))
        _history_complaint(number, created, now, rng)
    db.session.flush()
    return count


def _history_complaint(number: int, created: datetime, now: datetime, rng: random.Random) -> None:
    category = rng.choices(CATEGORIES, weights=[9, 4, 2, 3, 2, 2, 3, 8, 3, 4, 2, 2, 1])[0].code
    family = category.split(".")[0]
    product, price = rng.choice(PRODUCTS)
    order = orders.create_order(OrderInput(
        f"KS-HIST-{number:04d}", f"历史客户{number % 40:02d}", f"1350000{number % 40:04d}", None,
        [{"name": product, "qty": 1, "price": float(price)}], Decimal(price), "CNY", rng.choice(("alipay", "wechat")),
        created - timedelta(days=rng.randrange(1, 10)), region=rng.choice(REGIONS)), now=now)
    complaint = Complaint(customer_id=order.customer_id, order_id=order.id, category=category,
                          description=TEXTS[family], channel=rng.choice(("web", "app", "app")), created_at=created)
    db.session.add(complaint)
    db.session.flush()
    complaint_facts.record_intake(complaint, order)
    before = complaint_facts.contribution(complaint)
    urgent = Decimal(price) >= 1000 or rng.random() < 0.2
    complaint.handling_group = GROUP_OF[family]
    complaint.response_due_at = created + (timedelta(minutes=30) if urgent else timedelta(days=1))
    complaint.resolution_due_at = created + (timedelta(hours=8) if urgent else timedelta(days=3))
    slow = 3.0 if family == "delivery" else 1.0  # logistics is the team that struggles in the demo
    response = timedelta(minutes=rng.randrange(5, int(180 * slow)))
    resolution = response + timedelta(minutes=rng.randrange(30, int(2400 * slow)))
    if created + resolution < now:
        complaint.first_response_at, complaint.resolved_at = created + response, created + resolution
        complaint.response_seconds = int(response.total_seconds())
        complaint.resolution_seconds = int(resolution.total_seconds())
        if rng.random() < 0.6:
            complaint.satisfied = rng.random() < (0.55 if family == "delivery" else 0.85)
            complaint.csat = rng.randint(3, 5) if complaint.satisfied else rng.randint(1, 3)
            complaint.confirmed_at = complaint.resolved_at + timedelta(hours=rng.randrange(1, 48))
    complaint_facts.move_contribution(before, complaint)
    if complaint.resolved_at is not None and family in ("product", "order") and rng.random() < 0.5:
        _refund(complaint, order, rng)


def _refund(complaint: Complaint, order: Order, rng: random.Random) -> None:
    payment = orders.payment_for(order)
    assert payment is not None  # create_order writes one
    paid = order.amount_paid
    automatic = paid < 50
    # Weeks old: a paid one was reconciled long ago (as "succeeded" the payments chore would ask the
    # sandbox gateway about each, which never saw them, and raise a missing_at_gateway alert apiece).
    state = "failed" if rng.random() < 0.05 else "reconciled"
    amount = paid if automatic else (paid * Decimal(rng.choice(("0.2", "0.5", "1")))).quantize(Decimal("0.01"))
    at = complaint.resolved_at or complaint.created_at
    refund = Refund(payment_id=payment.id, provider=payment.provider, amount=amount, currency="CNY", state=state,
                    idempotency_key=f"hist-{complaint.id}", source_key=f"demo-history:{complaint.id}",
                    requested_by="system" if automatic else "xiaowang",
                    approved_by="system" if automatic else "zhuguan", reason="历史退款",
                    complaint_id=complaint.reference, attempts=1, created_at=at, updated_at=at,
                    submitted_at=at, finished_at=at)
    db.session.add(refund)
    db.session.flush()
    complaint_facts.record_refund(refund)
    if state == "reconciled":
        payment.amount_reserved += amount
        payment.amount_refunded += amount
