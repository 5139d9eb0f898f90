"""WeChat-Pay-style adapter (APIv3): ``out_refund_no`` idempotency, SUCCESS / CLOSED / PROCESSING /
ABNORMAL states, requests and answers signed over ``timestamp\\nnonce\\nbody\\n`` (RSA2), and
notifications whose resource is AES-256-GCM encrypted with the APIv3 key."""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any, Mapping

import requests

from app.payments.errors import GatewayRefused, GatewayUnclear, NotificationRejected
from app.payments.gateway import (Acknowledgement, GatewayAnswer, Notice, RefundOrder, cents, check_fresh,
                                  from_cents, from_unix, register)
from app.payments.http import GatewayClient, HttpSettings
from app.payments.signing import (SignatureError, aes_gcm_decrypt, load_private_key, load_public_key,
                                  rsa2_sign, rsa2_verify, wechat_message)

REFUNDS = "/v3/refund/domestic/refunds"
STATES = {"SUCCESS": "succeeded", "PROCESSING": "submitted", "CLOSED": "failed", "ABNORMAL": "failed"}
REFUSALS = frozenset({"NOT_ENOUGH", "INVALID_REQUEST", "PARAM_ERROR", "RESOURCE_NOT_EXISTS", "FREQUENCY_LIMITED"})


class WechatGateway:
    provider = "wechat"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.client = GatewayClient(HttpSettings(**options["http"]))
        self.mchid = options["mchid"]
        self.serial_no = options["serial_no"]
        self.private_key = load_private_key(options["private_key_path"])
        self.platform_key = load_public_key(options["platform_public_key_path"])
        self.apiv3_key = options["apiv3_key"].encode()
        self.notify_url = options.get("notify_url", "")
        self.clock = options["clock"]

    def _authorization(self, method: str, path: str, body: str) -> str:
        timestamp, nonce = str(int(self.clock().timestamp())), secrets.token_hex(16)
        signature = rsa2_sign(wechat_message(method, path, timestamp, nonce, body), self.private_key)
        return (f'WECHATPAY2-SHA256-RSA2048 mchid="{self.mchid}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{timestamp}",serial_no="{self.serial_no}"')

    def _send(self, method: str, path: str, payload: dict[str, Any] | None, *, moves_money: bool
              ) -> requests.Response:
        body = json.dumps(payload, separators=(",", ":")) if payload is not None else ""
        headers = {"Authorization": self._authorization(method, path, body), "Accept": "application/json",
                   "Content-Type": "application/json"}
        response = self.client.request(method, path, data=body.encode() or None, headers=headers,
                                       moves_money=moves_money)
        self._verify(response.headers, response.content)
        return response

    def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        try:
            message = wechat_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body)
            rsa2_verify(message, headers["Wechatpay-Signature"], self.platform_key)
        except (KeyError, SignatureError) as error:
            raise GatewayUnclear(f"WeChat Pay answer signature does not verify: {error}") from error

    def _answer(self, body: dict[str, Any]) -> GatewayAnswer:
        return GatewayAnswer(STATES.get(body.get("status", ""), "submitted"), body.get("refund_id"),
                             from_cents(body["amount"]["refund"]), body.get("status", ""), body)

    def submit(self, order: RefundOrder) -> GatewayAnswer:
        payload = {"transaction_id": order.payment_ref, "out_refund_no": order.key, "reason": order.reason[:80],
                   "notify_url": self.notify_url,
                   "amount": {"refund": cents(order.amount), "total": cents(order.paid_amount),
                              "currency": order.currency}}
        response = self._send("POST", REFUNDS, payload, moves_money=True)
        body = response.json()
        if response.status_code == 200:
            return self._answer(body)
        if body.get("code") in REFUSALS:
            raise GatewayRefused(body.get("message", "refused"), code=body["code"])
        raise GatewayUnclear(f"WeChat Pay answered HTTP {response.status_code}: {body}")

    def query(self, order: RefundOrder) -> GatewayAnswer:
        response = self._send("GET", f"{REFUNDS}/{order.key}", None, moves_money=False)
        if response.status_code == 404:
            return GatewayAnswer("not_found", detail="RESOURCE_NOT_EXISTS", raw=response.json())
        if response.status_code != 200:
            raise GatewayUnclear(f"WeChat Pay query answered HTTP {response.status_code}")
        return self._answer(response.json())

    def parse_notification(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        try:
            self._verify(headers, body)
            sent_at = from_unix(int(headers["Wechatpay-Timestamp"]))
        except (GatewayUnclear, KeyError, ValueError) as error:
            raise NotificationRejected(f"WeChat Pay notification refused: {error}") from error
        check_fresh(sent_at, now)
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            plain = aes_gcm_decrypt(self.apiv3_key, resource["nonce"], resource["ciphertext"],
                                    resource.get("associated_data", ""))
            refund = json.loads(plain)
        except (SignatureError, KeyError, ValueError) as error:
            raise NotificationRejected(f"WeChat Pay notification refused: {error}") from error
        status = refund.get("refund_status", "")
        return Notice(envelope["id"], STATES.get(status, "submitted"), refund.get("out_refund_no"),
                      refund.get("refund_id"), from_cents(refund["amount"]["refund"]), sent_at, status)

    def acknowledge(self, accepted: bool, message: str = "") -> Acknowledgement:
        body = {"code": "SUCCESS"} if accepted else {"code": "FAIL", "message": message[:200]}
        return Acknowledgement(200 if accepted else 400, json.dumps(body), "application/json")


register("wechat")(WechatGateway)
