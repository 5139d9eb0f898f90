"""Orders from the shop's API: a fake shop served over real HTTP (werkzeug), copied into the local table.

Covers listing and lookup through the portal, another customer's order, 5xx and timeouts
(retried) and 4xx (not retried), malformed answers, and a submit while the shop is down.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Payment
from app.models.complaint import Complaint
from app.models.order import Order
from app.services.order_source import HttpOrders, LocalOrders, get_order_source, reset_order_source
from tests.customer.conftest import image_bytes
from tests.customer.fake_shop import FakeShop, shop_order
from tests.customer.test_portal import sign_in, submit

DOWN = "订单系统暂时不可用，请稍后再试"


def _local(ref: str) -> Order | None:
    db.session.expire_all()
    return db.session.execute(select(Order).where(Order.order_ref == ref)).scalar_one_or_none()


def _count(model: Any) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_source_follows_config(app: Flask, shop: FakeShop, db_session: Any) -> None:
    assert isinstance(get_order_source(), HttpOrders)
    app.config["ORDER_API_URL"] = ""
    reset_order_source(app)
    assert isinstance(get_order_source(), LocalOrders)


def test_my_orders_come_from_the_shop_and_are_copied_once(client, shop: FakeShop, make_customer) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-1": shop_order("S-1"), "S-2": shop_order("S-2", amount="99.00"),
                   "S-OTHER": shop_order("S-OTHER", phone="13900000009")}
    sign_in(client)
    page = client.get("/orders")
    assert page.status_code == 200 and "S-1" in page.text and "S-2" in page.text and "S-OTHER" not in page.text
    assert "保温杯" in page.text
    assert client.get("/orders").status_code == 200
    copied = _local("S-2")
    assert copied is not None and str(copied.amount_paid) == "99.00" and copied.payment_method == "wechat"
    assert _local("S-OTHER") is None, "only the customer's own orders are copied"
    assert _count(Order) == 2 and _count(Payment) == 2, "listing twice copies nothing twice"
    assert all(hit.startswith("/orders?") for hit in shop.hits)


def test_an_order_page_fetches_one_order_and_a_copied_one_needs_no_call(client, shop: FakeShop,
                                                                        make_customer) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-9": shop_order("S-9")}
    sign_in(client)
    page = client.get("/orders/S-9")
    assert page.status_code == 200 and "25.80" in page.text and shop.hits == ["/orders/S-9?"]
    shop.always = "500"
    assert client.get("/orders/S-9").status_code == 200, "a copied order is served from the local row"
    assert len(shop.hits) == 1


def test_another_customers_order_is_a_404_and_nothing_is_written(client, shop: FakeShop, make_customer) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-THEIRS": shop_order("S-THEIRS", phone="13900000009")}
    sign_in(client)
    assert client.get("/orders/S-THEIRS").status_code == 404
    assert client.get("/orders/S-NONE").status_code == 404
    assert _local("S-THEIRS") is None
    assert shop.hits == ["/orders/S-THEIRS?", "/orders/S-NONE?"], "a 404 is an answer: not retried"


def test_a_5xx_or_a_timeout_is_retried(client, shop: FakeShop, make_customer) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-1": shop_order("S-1")}
    sign_in(client)
    shop.failures = ["500", "slow"]
    page = client.get("/orders")
    assert page.status_code == 200 and "S-1" in page.text
    assert len(shop.hits) == 3, "two failures, then the answer"


@pytest.mark.parametrize("failure", ["500", "slow", "garbage", "not-an-order", "400"])
def test_the_customer_is_told_the_order_system_is_down(client, shop: FakeShop, make_customer, failure) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-1": shop_order("S-1")}
    sign_in(client)
    shop.always = failure
    page = client.get("/orders")
    assert page.status_code == 503 and DOWN in page.text
    assert client.get("/orders/S-1").status_code == 503
    assert _count(Order) == 0, "nothing half-written"
    retried = failure in ("500", "slow")
    assert len(shop.hits) == (6 if retried else 2), "5xx and timeouts are tried three times, others once"


def test_orders_already_copied_stay_usable_while_the_shop_is_down(client, driver, shop: FakeShop, make_customer,
                                                                   upload_dir: Path) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-1": shop_order("S-1"), "S-2": shop_order("S-2")}
    sign_in(client)
    client.get("/orders/S-1")
    shop.always = "500"
    listed = client.get("/orders")
    assert listed.status_code == 503 and DOWN in listed.text
    assert "S-1" in listed.text and "S-2" not in listed.text, "the copy is listed, the unseen order cannot be"
    form = client.get("/complaints/new")
    assert form.status_code == 503 and DOWN in form.text and 'value="S-1"' in form.text
    assert "投诉未提交" not in form.text, "nothing was sent yet, so no 'not sent' banner"
    sent = submit(client, order_ref="S-1")
    assert sent.status_code == 302, "a complaint about a copied order needs no call to the shop"
    refused = submit(client, order_ref="S-2")
    assert refused.status_code == 503 and DOWN in refused.text and "投诉未提交" in refused.text
    assert refused.text.count(DOWN) == 1, "said once, next to the order"


def test_english_customers_read_the_message_in_english(client, shop: FakeShop, make_customer) -> None:
    make_customer(order_refs=())
    sign_in(client)
    shop.always = "500"
    page = client.get("/orders", headers={"Accept-Language": "en"})
    assert page.status_code == 503
    assert "The order system is temporarily unavailable; please try again later" in page.text


def test_a_complaint_about_a_shop_order_refers_to_the_local_copy(client, driver, shop: FakeShop, make_customer,
                                                                 upload_dir: Path) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-7": shop_order("S-7")}
    sign_in(client)
    sent = submit(client, order_ref="S-7", images=[image_bytes()])
    assert sent.status_code == 302, sent.text
    complaint = db.session.execute(select(Complaint)).scalar_one()
    assert complaint.order.order_ref == "S-7" and _local("S-7") is not None


def test_submitting_while_the_shop_is_down_writes_nothing(client, driver, shop: FakeShop, make_customer,
                                                          upload_dir: Path) -> None:
    make_customer(order_refs=())
    shop.orders = {"S-7": shop_order("S-7")}
    sign_in(client)
    form = client.get("/complaints/new")
    assert form.status_code == 200 and "S-7" in form.text
    db.session.execute(db.delete(Payment))
    db.session.execute(db.delete(Order))
    db.session.commit()
    shop.always = "500"
    refused = submit(client, order_ref="S-7", images=[image_bytes(), image_bytes("JPEG")])
    assert refused.status_code == 503 and DOWN in refused.text
    assert _count(Complaint) == 0 and _count(Order) == 0
    assert not upload_dir.exists() or not any(upload_dir.iterdir()), "no photo left behind"
