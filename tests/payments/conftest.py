"""Payments fixtures: a sandbox gateway on a free loopback port, and the app pointed at it."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest
import requests
from flask import Flask

from app.extensions import db
from app.models import Payment
from app.payments.sandbox import SandboxServer, start_sandbox
from app.services import refunds
from app.services.payment_gateways import reset_gateways

FAST_HTTP = {"PAYMENTS_CONNECT_TIMEOUT": 1.0, "PAYMENTS_READ_TIMEOUT": 1.0, "PAYMENTS_RETRIES": 2,
             "PAYMENTS_BACKOFF_SECONDS": 0.01, "PAYMENTS_NOTIFY_BASE_URL": ""}


def point_app_at(app: Flask, url: str, **settings: Any) -> None:
    """Send the app's three adapters to ``url`` and rebuild them."""
    app.config.update(ALIPAY_URL=url, WECHAT_URL=url, STRIPE_URL=url, **{**FAST_HTTP, **settings})
    reset_gateways(app)


@pytest.fixture(scope="session")
def sandbox_server(app: Flask) -> Iterator[SandboxServer]:
    """One sandbox per backend session; its notification timestamps follow the app's frozen clock."""
    clock = app.extensions["kesu.runtime"].clock
    server = start_sandbox(clock=lambda: clock.now(), settle_after=0.0)
    point_app_at(app, server.url)
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The sandbox with no faults configured."""
    sandbox_server.app.faults.configure(lost=0, error500=0, slow=0, duplicate=0, out_of_order=0)
    sandbox_server.app.faults.queued.clear()
    return sandbox_server


_counter = iter(range(1, 10**9))


@pytest.fixture
def paid(sandbox: SandboxServer, db_session: Any, clock: Any):  # type: ignore[no-untyped-def]
    """Factory: record a payment in Kesu and open the same trade at the sandbox."""
    def make(provider: str = "alipay", amount: str = "100.00", currency: str = "CNY", **trade: Any) -> Payment:
        ref = f"{provider[:2]}-trade-{next(_counter)}-{id(db_session)}"
        requests.post(f"{sandbox.url}/_sandbox/payments", json={"provider": provider, "ref": ref, "amount": amount,
                                                                "currency": currency, **trade}, timeout=5)
        payment = refunds.record_payment(f"O-{ref}", provider, ref, Decimal(amount), currency, now=clock.now())
        db.session.commit()
        return payment
    return make
