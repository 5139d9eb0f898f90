"""The sandbox gateway as a WSGI app plus its settlement/notification thread."""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from app.payments.alipay import QUERY, REFUND
from app.payments.gateway import from_cents
from app.payments.sandbox.faults import Faults
from app.payments.sandbox.ledger import Ledger, LedgerRefund, Refusal
from app.payments.sandbox.notifier import Notifier
from app.payments.sandbox.protocols import AlipayDialect, Denied, StripeDialect, WechatDialect
from app.payments.signing import load_private_key, load_public_key

KEYS_DIR = Path(__file__).resolve().parent / "keys"


@dataclass
class SandboxKeys:
    """The sandbox's secrets (public, for development only: see keys/README.md)."""

    merchant_public: Any
    gateway_private: Any
    apiv3_key: bytes = b"kesu-sandbox-apiv3-key-32-bytes!"
    stripe_secret: str = "sk_test_kesu_sandbox"
    webhook_secret: str = "whsec_kesu_sandbox"

    @classmethod
    def default(cls) -> SandboxKeys:
        return cls(load_public_key(str(KEYS_DIR / "merchant-public.pem")),
                   load_private_key(str(KEYS_DIR / "gateway-private.pem")))


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SandboxApp:
    """Routes the three dialects onto one ledger; faults apply to money-moving requests."""

    def __init__(self, *, keys: SandboxKeys | None = None, clock: Callable[[], datetime] = _utc_now,
                 settle_after: float = 0.3, stripe_webhook_url: str = "",
                 known_trade: Callable[[str, str], tuple[Decimal, str] | None] | None = None) -> None:
        self.keys = keys or SandboxKeys.default()
        self.ledger, self.faults, self.notifier = Ledger(known_trade), Faults(), Notifier()
        self.settle_after, self.stripe_webhook_url = settle_after, stripe_webhook_url
        self.alipay = AlipayDialect(self.keys, clock)
        self.wechat = WechatDialect(self.keys, clock)
        self.stripe = StripeDialect(self.keys, clock)
        self.url_map = Map([
            Rule("/gateway.do", endpoint="alipay", methods=["POST"]),
            Rule("/v3/refund/domestic/refunds", endpoint="wechat_refund", methods=["POST"]),
            Rule("/v3/refund/domestic/refunds/<key>", endpoint="wechat_query", methods=["GET"]),
            Rule("/v1/refunds", endpoint="stripe_refund", methods=["POST"]),
            Rule("/v1/refunds", endpoint="stripe_list", methods=["GET"]),
            Rule("/_sandbox/payments", endpoint="open_trade", methods=["POST"]),
            Rule("/_sandbox/faults", endpoint="faults", methods=["POST"]),
            Rule("/_sandbox/ledger", endpoint="ledger", methods=["GET"]),
        ])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, values = self.url_map.bind_to_environ(environ).match()
            response = getattr(self, f"on_{endpoint}")(request, **values)
        except Denied as error:
            response = Response(json.dumps({"code": "SIGN_ERROR", "message": str(error)}), status=401,
                                content_type="application/json")
        except HTTPException as error:
            response = error.get_response()
        return response(environ, start_response)

    # ------------------------------------------------------------------ money
    def _take(self, request: Request, provider: str, trade: str, key: str, amount: Decimal, notify_url: str
              ) -> tuple[LedgerRefund, bool, str | None]:
        """Apply faults and the ledger: return the refund, whether money moved now, the fault."""
        fault = self.faults.for_request()
        if fault == "error500":
            raise _Internal()
        settle = 0.0 if provider == "alipay" else self.settle_after
        refund, moved = self.ledger.refund(provider, trade, key, amount, now=_utc_now(), settle_after=settle,
                                           notify_url=notify_url)
        if moved and provider == "alipay":
            self.settle()
        if fault == "lost":
            _drop_connection(request)
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        return refund, moved, fault

    def on_alipay(self, request: Request) -> Response:
        try:
            method, biz = self.alipay.parse(request)
        except _Internal:
            return Response("internal error", status=500)
        if method == QUERY:
            return self.alipay.queried(self.ledger.get("alipay", biz["out_request_no"]), biz["trade_no"],
                                       biz["out_request_no"])
        if method != REFUND:
            raise NotFound(f"unknown method {method}")
        try:
            refund, moved, _fault = self._take(request, "alipay", biz["trade_no"], biz["out_request_no"],
                                               Decimal(biz["refund_amount"]), biz["notify_url"])
        except _Internal:
            return Response("internal error", status=500)
        except Refusal as refusal:
            return self.alipay.refused(REFUND, refusal)
        return self.alipay.refunded(refund, moved)

    def on_wechat_refund(self, request: Request) -> Response:
        self.wechat.check(request)
        body = request.get_json()
        try:
            refund, _moved, _fault = self._take(request, "wechat", body["transaction_id"], body["out_refund_no"],
                                                from_cents(int(body["amount"]["refund"])), body.get("notify_url", ""))
        except _Internal:
            return self.wechat.signed({"code": "SYSTEM_ERROR", "message": "系统繁忙"}, 500)
        except Refusal as refusal:
            code = "RESOURCE_NOT_EXISTS" if refusal.code == "TRADE_NOT_EXIST" else "INVALID_REQUEST"
            return self.wechat.signed({"code": code, "message": refusal.message}, 400)
        return self.wechat.signed(self.wechat.representation(refund))

    def on_wechat_query(self, request: Request, key: str) -> Response:
        self.wechat.check(request)
        refund = self.ledger.get("wechat", key)
        if refund is None:
            return self.wechat.signed({"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}, 404)
        return self.wechat.signed(self.wechat.representation(refund))

    def on_stripe_refund(self, request: Request) -> Response:
        self.stripe.check(request)
        form, key = request.form, request.headers.get("Idempotency-Key", "")
        if form.get("metadata[kesu_refund_key]", key) != key:
            return self.stripe.error(400, "idempotency_key_mismatch", "metadata key differs from Idempotency-Key")
        try:
            refund, _moved, _fault = self._take(request, "stripe", form["payment_intent"], key,
                                                from_cents(int(form["amount"])), self.stripe_webhook_url)
        except _Internal:
            return self.stripe.json({"error": {"type": "api_error", "message": "internal error"}}, 500)
        except Refusal as refusal:
            code = "resource_missing" if refusal.code == "TRADE_NOT_EXIST" else "amount_too_large"
            return self.stripe.error(404 if code == "resource_missing" else 400, code, refusal.message)
        return self.stripe.json(self.stripe.representation(refund))

    def on_stripe_list(self, request: Request) -> Response:
        self.stripe.check(request)
        refunds = self.ledger.of_trade("stripe", request.args.get("payment_intent", ""))
        return self.stripe.json({"object": "list", "data": [self.stripe.representation(r) for r in refunds]})

    # ---------------------------------------------------------------- control
    def on_open_trade(self, request: Request) -> Response:
        body = request.get_json()
        self.ledger.open_trade(body["provider"], body["ref"], Decimal(str(body["amount"])), body["currency"],
                               fails_refunds=bool(body.get("fails_refunds")))
        return Response(json.dumps({"ok": True}), content_type="application/json")

    def on_faults(self, request: Request) -> Response:
        self.faults.configure(**request.get_json())
        return Response(json.dumps({"ok": True}), content_type="application/json")

    def on_ledger(self, request: Request) -> Response:
        return Response(json.dumps({"refunds": self.ledger.snapshot(), "pending_notifications": self.notifier.pending()}),
                        content_type="application/json")

    # ------------------------------------------------------------ background
    def settle(self) -> None:
        """Settle due refunds and queue their notifications (with duplicates and stale ones on request)."""
        for refund in self.ledger.settle_due(_utc_now()):
            dialect = getattr(self, refund.provider)
            url = refund.notify_url
            final = dialect.notification(refund, refund.status)
            self.notifier.schedule(url, final)
            if self.faults.chance("duplicate"):
                self.notifier.schedule(url, final, delay=0.05)
            if self.faults.chance("out_of_order"):
                self.notifier.schedule(url, dialect.notification(refund, "processing"), delay=0.1)

    def tick(self) -> None:
        self.settle()
        self.notifier.run_due()


class _Internal(Exception):
    """An injected 500."""


def _drop_connection(request: Request) -> None:
    """Close the socket without answering: the merchant sees a dropped connection."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("sandbox fault: response lost after the money moved")


class SandboxServer:
    """The sandbox on a loopback port, with its background thread; ``stop()`` ends both."""

    def __init__(self, app: SandboxApp, server: BaseWSGIServer) -> None:
        self.app, self.server = app, server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True),
                         threading.Thread(target=self._background, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _background(self) -> None:
        while not self._stop.wait(0.05):
            self.app.tick()

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(5)
        self.app.notifier.session.close()


def start_sandbox(port: int = 0, **options: Any) -> SandboxServer:
    """Serve a new sandbox on 127.0.0.1 (port 0: any free port) in background threads."""
    app = SandboxApp(**options)
    return SandboxServer(app, make_server("127.0.0.1", port, app, threaded=True))
