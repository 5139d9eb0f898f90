"""Demo customers and their paid orders for the embedded default (added once; a rerun adds nothing)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from app.services import orders
from app.services.orders import OrderInput

DEMO_CUSTOMERS = [
    ("张三", "13800000001", "zhangsan@example.com", "normal",
     [("KS-20261101-01", [{"name": "陶瓷马克杯", "qty": 2, "price": 12.9}], "25.80", "alipay"),
      ("KS-20261102-02", [{"name": "无线耳机", "qty": 1, "price": 299.0}], "299.00", "wechat")]),
    ("李四", "13900000002", "lisi@example.com", "vip",
     [("KS-20261103-03", [{"name": "有机苹果 5kg", "qty": 1, "price": 36.5}], "36.50", "alipay"),
      ("KS-20261104-04", [{"name": "空气炸锅", "qty": 1, "price": 1299.0}], "1299.00", "stripe")]),
]


def load_demo_customers(password: str, *, now: datetime) -> int:
    """Create the demo customers (with ``password``) and their orders; return how many orders were new."""
    added = 0
    for name, phone, email, tier, demo_orders in DEMO_CUSTOMERS:
        for index, (ref, items, amount, method) in enumerate(demo_orders):
            if orders.order_exists(ref):
                continue
            order = orders.create_order(OrderInput(ref, name, phone, email, items, Decimal(amount), "CNY", method,
                                                   now - timedelta(days=3 + index)), now=now)
            order.customer.tier = tier
            if order.customer.password_hash is None:
                order.customer.set_password(password)
            added += 1
    return added
