"""The three gateway dialects the sandbox speaks: requests in, signed answers and notifications out."""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from app.payments.alipay import QUERY, REFUND, alipay_time, signed_response
from app.payments.gateway import cents, from_cents
from app.payments.sandbox.ledger import LedgerRefund, Refusal
from app.payments.signing import (SignatureError, aes_gcm_encrypt, alipay_sign_content, rsa2_sign, rsa2_verify,
                                  stripe_signature, wechat_message)

Build = Callable[[], tuple[bytes, dict[str, str]]]
WECHAT_STATUS = {"processing": "PROCESSING", "success": "SUCCESS", "closed": "CLOSED"}
STRIPE_STATUS = {"processing": "pending", "success": "succeeded", "closed": "failed"}


class Denied(Exception):
    """The merchant's request is not authentic."""


class AlipayDialect:
    provider = "alipay"
    settles_at_once = True

    def __init__(self, keys: Any, clock: Callable[[], datetime]) -> None:
        self.keys, self.clock = keys, clock

    def parse(self, request: Request) -> tuple[str, dict[str, Any]]:
        params = request.form.to_dict()
        try:
            rsa2_verify(alipay_sign_content(params), params.get("sign", ""), self.keys.merchant_public)
        except SignatureError as error:
            raise Denied(str(error)) from error
        return params["method"], {**json.loads(params["biz_content"]), "notify_url": params.get("notify_url", "")}

    def answer(self, method: str, payload: dict[str, Any]) -> Response:
        body = signed_response(method, payload, lambda raw: rsa2_sign(raw, self.keys.gateway_private))
        return Response(body, content_type="application/json;charset=utf-8")

    def refunded(self, refund: LedgerRefund, moved_now: bool) -> Response:
        return self.answer(REFUND, {"code": "10000", "msg": "Success", "trade_no": refund.trade_ref,
                                    "out_request_no": refund.key, "refund_fee": f"{refund.amount:.2f}",
                                    "fund_change": "Y" if moved_now and refund.status == "success" else "N"})

    def refused(self, method: str, refusal: Refusal) -> Response:
        sub_code = "ACQ.TRADE_NOT_EXIST" if refusal.code == "TRADE_NOT_EXIST" else "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
        return self.answer(method, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code,
                                    "sub_msg": refusal.message})

    def queried(self, refund: LedgerRefund | None, trade_ref: str, key: str) -> Response:
        payload: dict[str, Any] = {"code": "10000", "msg": "Success", "trade_no": trade_ref, "out_request_no": key}
        if refund is not None and refund.status == "success":
            payload.update(refund_status="REFUND_SUCCESS", refund_amount=f"{refund.amount:.2f}")
        return self.answer(QUERY, payload)

    def notification(self, refund: LedgerRefund, status: str) -> Build:
        event_id = secrets.token_hex(12)

        def build() -> tuple[bytes, dict[str, str]]:
            params = {"notify_id": event_id, "notify_time": alipay_time(self.clock()),
                      "notify_type": "trade_status_sync", "trade_no": refund.trade_ref, "out_biz_no": refund.key,
                      "refund_fee": f"{refund.amount:.2f}", "sign_type": "RSA2",
                      "refund_status": {"success": "REFUND_SUCCESS", "closed": "REFUND_CLOSED"}.get(
                          status, "REFUND_PROCESSING")}
            params["sign"] = rsa2_sign(alipay_sign_content(params), self.keys.gateway_private)
            return urlencode(params).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        return build


class WechatDialect:
    provider = "wechat"
    settles_at_once = False

    def __init__(self, keys: Any, clock: Callable[[], datetime]) -> None:
        self.keys, self.clock = keys, clock

    def check(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        fields = dict(part.split("=", 1) for part in header.removeprefix("WECHATPAY2-SHA256-RSA2048 ").split(",")
                      if "=" in part)
        fields = {k: v.strip('"') for k, v in fields.items()}
        path = request.full_path.rstrip("?")
        message = wechat_message(request.method, path, fields.get("timestamp", ""), fields.get("nonce_str", ""),
                                 request.get_data())
        try:
            rsa2_verify(message, fields.get("signature", ""), self.keys.merchant_public)
        except SignatureError as error:
            raise Denied(str(error)) from error

    def signed(self, payload: dict[str, Any], status: int = 200) -> Response:
        body = json.dumps(payload).encode()
        return Response(body, status=status, content_type="application/json", headers=self._headers(body))

    def _headers(self, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(self.clock().timestamp())), secrets.token_hex(16)
        signature = rsa2_sign(wechat_message(timestamp, nonce, body), self.keys.gateway_private)
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                "Wechatpay-Serial": "SANDBOX-PLATFORM-1"}

    def representation(self, refund: LedgerRefund, status: str | None = None) -> dict[str, Any]:
        return {"refund_id": refund.refund_id, "out_refund_no": refund.key, "transaction_id": refund.trade_ref,
                "status": WECHAT_STATUS[status or refund.status],
                "amount": {"refund": cents(refund.amount), "currency": refund.currency}}

    def notification(self, refund: LedgerRefund, status: str) -> Build:
        event_id = secrets.token_hex(12)
        resource = {**self.representation(refund, status), "refund_status": WECHAT_STATUS[status]}

        def build() -> tuple[bytes, dict[str, str]]:
            nonce = secrets.token_hex(6)
            envelope = {"id": event_id, "create_time": self.clock().isoformat(), "resource_type": "encrypt-resource",
                        "event_type": f"REFUND.{WECHAT_STATUS[status]}", "summary": "退款状态变更",
                        "resource": {"algorithm": "AEAD_AES_256_GCM", "original_type": "refund", "nonce": nonce,
                                     "associated_data": "refund",
                                     "ciphertext": aes_gcm_encrypt(self.keys.apiv3_key, nonce,
                                                                   json.dumps(resource).encode(), "refund")}}
            body = json.dumps(envelope).encode()
            return body, {"Content-Type": "application/json", **self._headers(body)}
        return build

    @staticmethod
    def amount(payload: dict[str, Any]) -> Decimal:
        return from_cents(int(payload["amount"]["refund"]))


class StripeDialect:
    provider = "stripe"
    settles_at_once = False

    def __init__(self, keys: Any, clock: Callable[[], datetime]) -> None:
        self.keys, self.clock = keys, clock

    def check(self, request: Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.keys.stripe_secret}":
            raise Denied("invalid API key")

    @staticmethod
    def json(payload: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(payload), status=status, content_type="application/json")

    def error(self, status: int, code: str, message: str) -> Response:
        return self.json({"error": {"type": "invalid_request_error", "code": code, "message": message}}, status)

    @staticmethod
    def representation(refund: LedgerRefund, status: str | None = None) -> dict[str, Any]:
        state = STRIPE_STATUS[status or refund.status]
        return {"id": refund.refund_id, "object": "refund", "amount": cents(refund.amount),
                "currency": refund.currency.lower(), "payment_intent": refund.trade_ref, "status": state,
                "failure_reason": "declined" if state == "failed" else None,
                "metadata": {"kesu_refund_key": refund.key}}

    def notification(self, refund: LedgerRefund, status: str) -> Build:
        event = {"id": f"evt_{secrets.token_hex(10)}", "object": "event",
                 "type": "refund.failed" if status == "closed" else "refund.updated",
                 "created": int(self.clock().timestamp()), "data": {"object": self.representation(refund, status)}}
        body = json.dumps(event).encode()

        def build() -> tuple[bytes, dict[str, str]]:
            signature = stripe_signature(self.keys.webhook_secret, int(self.clock().timestamp()), body)
            return body, {"Content-Type": "application/json", "Stripe-Signature": signature}
        return build
