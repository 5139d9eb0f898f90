"""Where a customer's orders come from: the local orders table, or the shop's order API.

``LocalOrders`` reads the ``shop_order`` table (demo data, ``flask orders import``). ``HttpOrders``
asks the shop's API (``KESU_ORDER_API_URL`` with the bearer ``KESU_ORDER_API_TOKEN``) and copies
every order it is told about into the same table, so a complaint always refers to a local row
(and its payment) whatever the shop does later. The API it expects:

    GET {url}/orders?customer_phone=...&customer_email=...  ->  {"orders": [ORDER, ...]}
    GET {url}/orders/{order_ref}                             ->  ORDER, or 404
    ORDER = {"order_ref", "customer_name", "customer_phone", "customer_email",
             "items": [{"name", "qty", "price"}], "amount_paid": "25.80", "currency": "CNY",
             "payment_method": "alipay|wechat|stripe", "paid_at": ISO 8601 with zone, "region"?}

Calls use one session with explicit timeouts and retry only timeouts, 5xx and 429 (the payments'
``GatewayClient``). When the shop cannot answer, or answers something that is not an order,
``OrderSystemUnavailable`` (503) says so and nothing is written. A copied order is kept as
first seen: a paid order's amount never changes, and complaints and refunds hang on it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import KesuError
from app.extensions import db
from app.models.customer import Customer
from app.models.order import Order
from app.payments.errors import GatewayUnclear
from app.payments.http import GatewayClient, HttpSettings
from app.services import orders

UNAVAILABLE = _l("The order system is temporarily unavailable; please try again later")
log = logging.getLogger(__name__)


class OrderSystemUnavailable(KesuError):
    """The shop's order API did not answer, or answered nonsense; try again later."""

    status = 503
    title = "Order system unavailable"


class OrderSource(Protocol):
    """A customer's orders, wherever they live; someone else's order is NotFound."""

    def customer_orders(self, customer: Customer) -> list[Order]: ...

    def customer_order(self, customer: Customer, order_ref: str) -> Order: ...


class LocalOrders:
    """Orders already in the local table."""

    def customer_orders(self, customer: Customer) -> list[Order]:
        return orders.customer_orders(customer.id)

    def customer_order(self, customer: Customer, order_ref: str) -> Order:
        return orders.customer_order(customer.id, order_ref)


@dataclass
class HttpOrders:
    """Orders from the shop's API, copied into the local table as they are seen."""

    client: GatewayClient
    token: str

    def customer_orders(self, customer: Customer) -> list[Order]:
        """Ask the shop for the customer's orders (by phone and email), copy them, return the local rows."""
        query = {key: value for key, value in (("customer_phone", customer.phone),
                                               ("customer_email", customer.email)) if value}
        body = self._get("/orders", params=query)
        listed = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            raise _unavailable("the order list is not {\"orders\": [...]}")
        inputs = [_order_input(entry) for entry in listed]
        for data in inputs:
            if _belongs_to(data, customer):
                _copy(data, customer)
        return orders.customer_orders(customer.id)

    def customer_order(self, customer: Customer, order_ref: str) -> Order:
        """Return the customer's order ``order_ref``, asking the shop when it is not copied yet."""
        known = _local(order_ref)
        if known is not None:
            if known.customer_id != customer.id:
                raise orders.order_not_found(order_ref)
            return known
        body = self._get(f"/orders/{quote(order_ref, safe='')}", missing_ok=True)
        if body is None:
            raise orders.order_not_found(order_ref)
        data = _order_input(body)
        if data.order_ref != order_ref or not _belongs_to(data, customer):
            raise orders.order_not_found(order_ref)
        return _copy(data, customer)

    def _get(self, path: str, *, params: dict[str, str] | None = None, missing_ok: bool = False) -> Any:
        try:
            response = self.client.request("GET", path, moves_money=False, params=params,
                                           headers={"Authorization": f"Bearer {self.token}",
                                                    "Accept": "application/json"})
        except GatewayUnclear as error:
            raise _unavailable(str(error)) from error
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise _unavailable(f"GET {path} answered HTTP {response.status_code}")
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            raise _unavailable(f"GET {path} answered something that is not JSON") from None


def _unavailable(reason: str) -> OrderSystemUnavailable:
    log.warning("shop order API unavailable: %s", reason)
    return OrderSystemUnavailable(str(UNAVAILABLE))


def _order_input(entry: Any) -> orders.OrderInput:
    """Map one ORDER of the shop's JSON onto ``OrderInput`` with the CSV import's rules."""
    if not isinstance(entry, dict):
        raise _unavailable("an order is not a JSON object")
    row = {key: "" if entry.get(key) is None else str(entry[key]) for key in orders.CSV_COLUMNS + ("region",)}
    row["items"] = json.dumps(entry.get("items"))
    try:
        return orders.parse_row(row)
    except ValueError as error:
        raise _unavailable(f"order {entry.get('order_ref')!r}: {error}") from None


def _belongs_to(data: orders.OrderInput, customer: Customer) -> bool:
    return bool((customer.phone and data.customer_phone == customer.phone)
                or (customer.email and data.customer_email == customer.email))


def _local(order_ref: str) -> Order | None:
    return db.session.execute(select(Order).where(Order.order_ref == order_ref)).scalar_one_or_none()


def _copy(data: orders.OrderInput, customer: Customer) -> Order:
    """Return the local row of a shop order that belongs to ``customer``, writing it on first sight."""
    known = _local(data.order_ref)
    if known is None:
        try:
            with db.session.begin_nested():
                known = orders.add_order(customer, data)
        except IntegrityError:           # copied by a concurrent request a moment ago
            known = _local(data.order_ref)
    if known is None or known.customer_id != customer.id:
        raise orders.order_not_found(data.order_ref)
    return known


def build_order_source(app: Flask) -> OrderSource:
    """Return ``HttpOrders`` when ``ORDER_API_URL`` is set, else ``LocalOrders``."""
    config = app.config
    if not config.get("ORDER_API_URL"):
        return LocalOrders()
    settings = HttpSettings(config["ORDER_API_URL"], config["ORDER_API_CONNECT_TIMEOUT"],
                            config["ORDER_API_READ_TIMEOUT"], config["ORDER_API_RETRIES"],
                            config["ORDER_API_BACKOFF_SECONDS"])
    return HttpOrders(GatewayClient(settings), config.get("ORDER_API_TOKEN", ""))


def get_order_source() -> OrderSource:
    """Return the app's order source, built on first use and then kept on the app."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "kesu.order_source" not in app.extensions:
        app.extensions["kesu.order_source"] = build_order_source(app)
    return app.extensions["kesu.order_source"]


def reset_order_source(app: Flask) -> None:
    """Forget the built source (after changing ORDER_API_* settings, e.g. in tests)."""
    app.extensions.pop("kesu.order_source", None)
