"""A fake shop's order API served over real HTTP (werkzeug) on a loopback port, and the ``shop`` fixture.

Used by the portal's order-source tests and the customer API's; import the fixture into a
test module or conftest (``from tests.customer.fake_shop import shop``).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.services.order_source import reset_order_source

TOKEN = "shop-secret-token"


def shop_order(ref: str, phone: str = "13800000001", amount: str = "25.80") -> dict[str, Any]:
    return {"order_ref": ref, "customer_name": "张三", "customer_phone": phone,
            "customer_email": f"{phone}@example.com", "items": [{"name": "保温杯", "qty": 1, "price": 25.8}],
            "amount_paid": amount, "currency": "CNY", "payment_method": "wechat",
            "paid_at": "2026-11-03T10:30:00+08:00", "region": "上海"}


@dataclass
class FakeShop:
    """The shop's order API: orders by ref; ``failures`` answers the next requests with 500/slow/garbage."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)   # "500" | "slow" | "garbage" | "400", consumed in order
    always: str | None = None                          # the same failure for every request
    hits: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.hits.append(request.full_path)
        return self.answer(request)(environ, start_response)

    def answer(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("no token", status=401)
        failure = self.always or (self.failures.pop(0) if self.failures else None)
        if failure == "slow":
            time.sleep(1.0)
        elif failure in ("500", "400"):
            return Response("broken", status=int(failure))
        elif failure == "garbage":
            return Response("<html>maintenance</html>", status=200, content_type="application/json")
        elif failure == "not-an-order":
            return _json({"orders": [{"order_ref": "X-1", "amount_paid": "lots"}]})
        if request.path == "/orders":
            phone, email = request.args.get("customer_phone"), request.args.get("customer_email")
            return _json({"orders": [o for o in self.orders.values()
                                     if o["customer_phone"] == phone or o["customer_email"] == email]})
        ref = request.path.removeprefix("/orders/")
        return _json(self.orders[ref]) if ref in self.orders else Response("no such order", status=404)


def _json(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def shop(app: Flask) -> Iterator[FakeShop]:
    """The fake shop on a loopback port; the app's order source points at it (short timeouts, no backoff)."""
    fake = FakeShop()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {key: app.config.get(key) for key in ("ORDER_API_URL", "ORDER_API_TOKEN", "ORDER_API_READ_TIMEOUT",
                                                  "ORDER_API_RETRIES", "ORDER_API_BACKOFF_SECONDS")}
    app.config.update(ORDER_API_URL=f"http://127.0.0.1:{server.server_port}", ORDER_API_TOKEN=TOKEN,
                      ORDER_API_READ_TIMEOUT=0.3, ORDER_API_RETRIES=2, ORDER_API_BACKOFF_SECONDS=0)
    reset_order_source(app)
    try:
        yield fake
    finally:
        app.config.update(saved)
        reset_order_source(app)
        server.shutdown()
        thread.join(5)
        server.server_close()
