"""The customer API's orders come from the order source: the shop's API (fake shop over real HTTP) or the table.

When the shop cannot answer, the order endpoints (and a submit that needs an order not copied
yet) answer 503 problem+json, in the app's language, and nothing is written; the OpenAPI
document declares that 503.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.complaint import Complaint
from app.models.order import Order
from tests.customer.fake_shop import FakeShop, shop_order

API = "/api/v1/customer"
ZH = {"Accept-Language": "zh-CN"}
DOWN_ZH = "订单系统暂时不可用，请稍后再试"
DOWN_EN = "The order system is temporarily unavailable; please try again later"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def _orders() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(Order)).scalar_one()


def test_my_orders_come_from_the_shop_and_are_copied(client, shop: FakeShop, make_customer, token_of) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {"S-1": shop_order("S-1"), "S-2": shop_order("S-2", amount="99.00"),
                   "S-THEIRS": shop_order("S-THEIRS", phone="13900000009")}
    page = client.get(f"{API}/orders", headers=header).get_json()
    assert page["total"] == 2 and {o["order_ref"] for o in page["items"]} == {"S-1", "S-2"}
    assert any(hit.startswith("/orders?customer_phone=13800000001") for hit in shop.hits)
    assert _orders() == 2, "the customer's shop orders are copied into the local table, nobody else's"
    one = client.get(f"{API}/orders/S-2", headers=header).get_json()
    assert (one["amount_paid"], one["payment_method"], one["amount_refunded"]) == ("99.00", "wechat", "0.00")
    assert one["items"] == [{"name": "保温杯", "qty": 1, "price": 25.8}]


def test_orders_are_paged_from_the_shop_list(client, shop: FakeShop, make_customer, token_of) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {f"S-{n}": shop_order(f"S-{n}") for n in range(5)}
    first = client.get(f"{API}/orders?limit=2", headers=header).get_json()
    rest = client.get(f"{API}/orders?limit=2&offset=2", headers=header).get_json()
    last = client.get(f"{API}/orders?limit=2&offset=4", headers=header).get_json()
    assert first["total"] == rest["total"] == last["total"] == 5
    refs = [o["order_ref"] for page in (first, rest, last) for o in page["items"]]
    assert sorted(refs) == [f"S-{n}" for n in range(5)] and len(last["items"]) == 1


def test_one_order_is_fetched_once_then_read_locally(client, shop: FakeShop, make_customer, token_of) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {"S-9": shop_order("S-9")}
    assert client.get(f"{API}/orders/S-9", headers=header).status_code == 200
    assert client.get(f"{API}/orders/S-9", headers=header).status_code == 200
    assert [hit.rstrip("?") for hit in shop.hits] == ["/orders/S-9"], "a copied order needs no second call to the shop"


def test_another_customers_shop_order_is_a_404_and_not_copied(client, shop: FakeShop, make_customer,
                                                               token_of) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {"S-THEIRS": shop_order("S-THEIRS", phone="13900000009")}
    _problem(client.get(f"{API}/orders/S-THEIRS", headers=header), 404)
    _problem(client.get(f"{API}/orders/S-NOWHERE", headers=header), 404)
    assert _orders() == 0


@pytest.mark.parametrize("failure", ["500", "slow", "garbage", "not-an-order"])
def test_the_shop_being_down_is_a_503_problem(client, shop: FakeShop, make_customer, token_of, failure) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {"S-1": shop_order("S-1")}
    shop.always = failure
    listed = _problem(client.get(f"{API}/orders", headers={**header, **ZH}), 503)
    assert listed["detail"] == DOWN_ZH and listed["status"] == 503
    one = _problem(client.get(f"{API}/orders/S-1", headers=header), 503)
    assert one["detail"] == DOWN_EN, "no Accept-Language: the API answers in English"
    assert _orders() == 0, "nothing is written while the shop is down"


def test_a_copied_order_is_still_served_while_the_shop_is_down(client, shop: FakeShop, make_customer,
                                                               token_of) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {"S-1": shop_order("S-1")}
    assert client.get(f"{API}/orders/S-1", headers=header).status_code == 200
    shop.always = "500"
    assert client.get(f"{API}/orders/S-1", headers=header).get_json()["order_ref"] == "S-1"
    _problem(client.get(f"{API}/orders", headers=header), 503)


def test_submitting_about_an_uncopied_order_while_the_shop_is_down_is_a_503(client, driver, shop: FakeShop,
                                                                           make_customer, token_of,
                                                                           upload_dir) -> None:
    header = token_of(make_customer(order_refs=()))
    shop.orders = {"S-7": shop_order("S-7")}
    shop.always = "500"
    body = {"order_ref": "S-7", "category": "product.quality", "description": "杯子有裂纹"}
    refused = _problem(client.post(f"{API}/complaints", json=body, headers={**header, **ZH}), 503)
    assert refused["detail"] == DOWN_ZH
    assert db.session.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0
    shop.always = None
    sent = client.post(f"{API}/complaints", json=body, headers=header)
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["order_ref"] == "S-7"


def test_the_openapi_document_declares_the_503(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operations = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    for name in ("list_my_orders", "get_my_order", "submit_complaint"):
        declared = operations[name]["responses"]["503"]
        assert "application/problem+json" in declared["content"] and "order API" in declared["description"]
    assert "503" not in operations["get_me"]["responses"]
