"""Alipay-style adapter: form requests signed RSA2, ``out_request_no`` idempotency, and
``fund_change`` deciding success (``N`` on a repeated key only says *this* call moved nothing)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping
from urllib.parse import parse_qsl

from app.payments.errors import GatewayRefused, GatewayUnclear, NotificationRejected
from app.payments.gateway import Acknowledgement, GatewayAnswer, Notice, RefundOrder, check_fresh, register
from app.payments.http import GatewayClient, HttpSettings
from app.payments.signing import (SignatureError, alipay_sign_content, load_private_key, load_public_key,
                                  rsa2_sign, rsa2_verify)

BEIJING = timezone(timedelta(hours=8))
REFUND = "alipay.trade.refund"
QUERY = "alipay.trade.fastpay.refund.query"
NOT_FOUND_CODES = frozenset({"ACQ.TRADE_NOT_EXIST", "ACQ.REFUND_NOT_EXIST"})


def alipay_time(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def parse_alipay_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def signed_response(method: str, payload: dict[str, Any], sign: Any) -> str:
    """Build a response body the way Alipay does: the member text, then its signature."""
    inner = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f'{{"{response_key(method)}":{inner},"sign":"{sign(inner.encode())}"}}'


class AlipayGateway:
    provider = "alipay"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.client = GatewayClient(HttpSettings(**options["http"]))
        self.app_id = options["app_id"]
        self.private_key = load_private_key(options["private_key_path"])
        self.gateway_key = load_public_key(options["gateway_public_key_path"])
        self.notify_url = options.get("notify_url", "")
        self.clock = options["clock"]

    def _call(self, method: str, biz: dict[str, Any], *, moves_money: bool) -> dict[str, Any]:
        params = {"app_id": self.app_id, "method": method, "charset": "utf-8", "sign_type": "RSA2",
                  "timestamp": alipay_time(self.clock()), "version": "1.0", "notify_url": self.notify_url,
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        params["sign"] = rsa2_sign(alipay_sign_content(params), self.private_key)
        response = self.client.request("POST", "/gateway.do", data=params, moves_money=moves_money)
        return self._verified(method, response.text)

    def _verified(self, method: str, text: str) -> dict[str, Any]:
        prefix = f'{{"{response_key(method)}":'
        inner, _sep, tail = text.removeprefix(prefix).rpartition(',"sign":"')
        if not text.startswith(prefix) or not tail.endswith('"}'):
            raise GatewayUnclear(f"Alipay answer is not a signed {method} response: {text[:200]}")
        try:
            rsa2_verify(inner.encode(), tail[:-2], self.gateway_key)
        except SignatureError as error:
            raise GatewayUnclear(f"Alipay answer signature does not verify: {error}") from error
        return json.loads(inner)

    def submit(self, order: RefundOrder) -> GatewayAnswer:
        body = self._call(REFUND, {"trade_no": order.payment_ref, "refund_amount": f"{order.amount:.2f}",
                                   "out_request_no": order.key, "refund_reason": order.reason[:256]},
                          moves_money=True)
        if body.get("code") == "10000":
            if body.get("fund_change") == "Y":
                return GatewayAnswer("succeeded", body.get("trade_no"), Decimal(body["refund_fee"]), raw=body)
            raise GatewayUnclear("fund_change=N: this call moved no money (an earlier one may have); query")
        if body.get("code") == "40004":
            raise GatewayRefused(body.get("sub_msg", "refused"), code=body.get("sub_code", "ACQ.SYSTEM_ERROR"))
        raise GatewayUnclear(f"Alipay answered code {body.get('code')}: {body.get('msg')}")

    def query(self, order: RefundOrder) -> GatewayAnswer:
        body = self._call(QUERY, {"trade_no": order.payment_ref, "out_request_no": order.key},
                          moves_money=False)
        if body.get("code") == "10000":
            if body.get("refund_status") == "REFUND_SUCCESS":
                return GatewayAnswer("succeeded", body.get("trade_no"), Decimal(body["refund_amount"]), raw=body)
            return GatewayAnswer("not_found", detail="no successful refund with this out_request_no", raw=body)
        if body.get("sub_code") in NOT_FOUND_CODES:
            return GatewayAnswer("not_found", detail=body.get("sub_msg", ""), raw=body)
        raise GatewayUnclear(f"Alipay query answered code {body.get('code')}: {body.get('msg')}")

    def parse_notification(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        try:
            rsa2_verify(alipay_sign_content(params), params.get("sign", ""), self.gateway_key)
            sent_at = parse_alipay_time(params["notify_time"])
            event_id, status = params["notify_id"], params["refund_status"]
        except (SignatureError, KeyError, ValueError) as error:
            raise NotificationRejected(f"Alipay notification refused: {error}") from error
        check_fresh(sent_at, now)
        state = {"REFUND_SUCCESS": "succeeded", "REFUND_CLOSED": "failed"}.get(status, "submitted")
        return Notice(event_id, state, params.get("out_biz_no"), params.get("trade_no"),
                      Decimal(params["refund_fee"]) if params.get("refund_fee") else None, sent_at, status)

    def acknowledge(self, accepted: bool, message: str = "") -> Acknowledgement:
        return Acknowledgement(200 if accepted else 400, "success" if accepted else "fail")


register("alipay")(AlipayGateway)
