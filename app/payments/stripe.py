"""Stripe-style adapter: ``Idempotency-Key`` header, pending / succeeded / failed refunds, and
webhooks signed HMAC-SHA256 (``Stripe-Signature``) with a 300 s tolerance."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

import requests

from app.payments.errors import GatewayRefused, GatewayUnclear, NotificationRejected
from app.payments.gateway import (Acknowledgement, GatewayAnswer, Notice, RefundOrder, cents, check_fresh,
                                  from_cents, from_unix, register)
from app.payments.http import GatewayClient, HttpSettings
from app.payments.signing import SignatureError, stripe_verify

STATES = {"pending": "submitted", "requires_action": "submitted", "succeeded": "succeeded",
          "failed": "failed", "canceled": "failed"}
REFUSAL_STATUSES = frozenset({400, 402, 404})
KEY_FIELD = "kesu_refund_key"


class StripeGateway:
    provider = "stripe"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.client = GatewayClient(HttpSettings(**options["http"]))
        self.client.session.headers["Authorization"] = f"Bearer {options['secret_key']}"
        self.webhook_secret = options["webhook_secret"]

    @staticmethod
    def _answer(refund: dict[str, Any]) -> GatewayAnswer:
        return GatewayAnswer(STATES.get(refund.get("status", ""), "submitted"), refund["id"],
                             from_cents(refund["amount"]), refund.get("failure_reason") or refund.get("status", ""),
                             refund)

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            return response.json()
        except ValueError as error:
            raise GatewayUnclear(f"Stripe answered HTTP {response.status_code} without JSON") from error

    def submit(self, order: RefundOrder) -> GatewayAnswer:
        form = {"payment_intent": order.payment_ref, "amount": cents(order.amount), "reason": "requested_by_customer",
                f"metadata[{KEY_FIELD}]": order.key}
        response = self.client.request("POST", "/v1/refunds", data=form, headers={"Idempotency-Key": order.key},
                                       moves_money=True)
        body = self._json(response)
        if response.status_code == 200:
            return self._answer(body)
        error = body.get("error", {})
        if response.status_code in REFUSAL_STATUSES and error.get("type") == "invalid_request_error":
            raise GatewayRefused(error.get("message", "refused"), code=error.get("code", "invalid_request"))
        raise GatewayUnclear(f"Stripe answered HTTP {response.status_code}: {error.get('message', body)}")

    def query(self, order: RefundOrder) -> GatewayAnswer:
        response = self.client.request("GET", "/v1/refunds", params={"payment_intent": order.payment_ref,
                                                                    "limit": 100}, moves_money=False)
        if response.status_code != 200:
            raise GatewayUnclear(f"Stripe list answered HTTP {response.status_code}")
        for refund in self._json(response).get("data", []):
            if refund.get("metadata", {}).get(KEY_FIELD) == order.key:
                return self._answer(refund)
        return GatewayAnswer("not_found", detail=f"no refund of {order.payment_ref} carries this key")

    def parse_notification(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        try:
            sent_at = from_unix(stripe_verify(self.webhook_secret, headers.get("Stripe-Signature", ""), body))
        except SignatureError as error:
            raise NotificationRejected(f"Stripe webhook refused: {error}") from error
        check_fresh(sent_at, now)
        try:
            event = json.loads(body)
            refund = event["data"]["object"]
            answer = self._answer(refund)
            return Notice(event["id"], answer.state, refund.get("metadata", {}).get(KEY_FIELD), refund["id"],
                          answer.amount, sent_at, f"{event['type']}: {refund.get('status')}")
        except (KeyError, ValueError, TypeError) as error:
            raise NotificationRejected(f"Stripe webhook refused: unreadable event ({error})") from error

    def acknowledge(self, accepted: bool, message: str = "") -> Acknowledgement:
        body = {"received": True} if accepted else {"error": message[:200]}
        return Acknowledgement(200 if accepted else 400, json.dumps(body), "application/json")


register("stripe")(StripeGateway)
