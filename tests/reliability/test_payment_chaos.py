"""Chaos: 300 refunds through the sandbox with lost answers, 500s, duplicate and out-of-order
notifications, and a worker process SIGKILLed at random points and restarted."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.clock import FrozenClock, SystemClock
from app.extensions import db
from app.models import Job, Payment, PaymentAlert, ProcessInstance, Refund
from app.payments.sandbox import start_sandbox
from app.services import definitions, processes, refunds
from app.services.payment_tasks import reconcile
from app.services.uow import run_command
from app.worker import run_one_job
from config import SANDBOX_KEYS
from tests.payments.conftest import point_app_at
from tests.support.engine import read_files

ROOT = Path(__file__).resolve().parents[2]
N = 300
PROVIDERS = ("alipay", "wechat", "stripe")
pytestmark = pytest.mark.slow


def _worker(app, sandbox_url: str, kesu_url: str) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    keys = {"KESU_ALIPAY_PRIVATE_KEY_FILE": "merchant-private.pem", "KESU_ALIPAY_PUBLIC_KEY_FILE": "gateway-public.pem",
            "KESU_WECHAT_PRIVATE_KEY_FILE": "merchant-private.pem", "KESU_WECHAT_PLATFORM_KEY_FILE": "gateway-public.pem"}
    env = {**os.environ, "DATABASE_URL": app.config["TEST_DATABASE"], "KESU_ENV": "production", "KESU_WORKER": "off",
           "KESU_JOB_LEASE_SECONDS": "2", "KESU_WORKER_POLL_SECONDS": "0.1", "KESU_INSTANCE_DIR": app.instance_path,
           "KESU_ALIPAY_URL": sandbox_url, "KESU_WECHAT_URL": sandbox_url, "KESU_STRIPE_URL": sandbox_url,
           "KESU_ALIPAY_APP_ID": "2021000000000000", "KESU_WECHAT_MCHID": "1900000001",
           "KESU_WECHAT_SERIAL_NO": "SANDBOX-MERCHANT-1", "KESU_WECHAT_APIV3_KEY": "kesu-sandbox-apiv3-key-32-bytes!",
           "KESU_STRIPE_SECRET_KEY": "sk_test_kesu_sandbox", "KESU_STRIPE_WEBHOOK_SECRET": "whsec_kesu_sandbox",
           "KESU_PAYMENTS_NOTIFY_BASE_URL": kesu_url, "KESU_PAYMENTS_READ_TIMEOUT": "2",
           "KESU_PAYMENTS_BACKOFF_SECONDS": "0.05", "KESU_PAYMENTS_QUERY_DELAY_SECONDS": "1",
           **{name: str(SANDBOX_KEYS / file) for name, file in keys.items()}}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _count(query) -> int:  # type: ignore[no-untyped-def]
    return db.session.execute(query).scalar()


def _completed(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        try:
            return _count(select(func.count(ProcessInstance.id)).where(ProcessInstance.status == "completed"))
        finally:
            db.session.remove()


def _setup(app, sandbox) -> None:  # type: ignore[no-untyped-def]
    now = app.extensions["kesu.runtime"].clock.now()
    run_command(lambda: definitions.deploy(read_files("pay_and_wait.bpmn", folder="payments"), actor="t", now=now))
    for start in range(0, N, 50):
        def batch(start: int = start) -> None:
            for i in range(start, start + 50):
                provider, ref = PROVIDERS[i % 3], f"chaos-{i}"
                sandbox.app.ledger.open_trade(provider, ref, Decimal("100.00"), "CNY")
                payment = refunds.record_payment(f"O-{i}", provider, ref, "100.00", "CNY", now=now)
                processes.start_instance("pay_and_wait", {"payment_id": payment.id, "amount": f"{10 + i % 50}.50",
                                                          "requested_by": "xiaowang", "approved_by": "zhuguan",
                                                          "complaint_id": f"C-{i}"}, actor="t", now=now)
        run_command(batch)
    db.session.remove()


def test_300_refunds_survive_lost_answers_500s_duplicates_and_killed_workers(committed_app) -> None:
    app, rng, started = committed_app, random.Random(2026), time.monotonic()
    app.extensions["kesu.runtime"].clock = SystemClock()
    kesu = make_server("127.0.0.1", 0, app, threaded=True)
    kesu_url = f"http://127.0.0.1:{kesu.server_port}"
    threading.Thread(target=kesu.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    sandbox = start_sandbox(settle_after=0.2, stripe_webhook_url=f"{kesu_url}/payments/notify/stripe")
    sandbox.app.faults.configure(lost=0.1, error500=0.1, duplicate=1.0, out_of_order=0.2, seed=7)
    point_app_at(app, sandbox.url, PAYMENTS_NOTIFY_BASE_URL=kesu_url, PAYMENTS_QUERY_DELAY_SECONDS=1)
    kills, worker = 0, None
    try:
        with app.app_context():
            _setup(app, sandbox)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and _completed(app) < N:
            worker = _worker(app, sandbox.url, kesu_url)
            if kills < 8:
                time.sleep(rng.uniform(2.0, 6.0))
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                kills += 1
                continue
            while time.monotonic() < deadline and _completed(app) < N:
                time.sleep(0.5)
            break
        with app.app_context():
            # The chore runs every minute; a query still backing off is due only in a later round,
            # so later rounds run on a clock moved five minutes on each time.
            runtime = app.extensions["kesu.runtime"]
            for _round in range(6):
                run_command(lambda: reconcile(runtime.clock.now()))
                while run_one_job(app, "reconciler"):
                    pass
                if _count(select(func.count(Refund.id)).where(Refund.state != "reconciled")) == 0:
                    break
                runtime.clock = FrozenClock(runtime.clock.now() + timedelta(minutes=5))
            figures = _figures(sandbox)
            db.session.remove()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(10)
        sandbox.stop()
        kesu.shutdown()
    figures.update(kills=kills, seconds=round(time.monotonic() - started, 1))
    print("\nCHAOS", figures)
    assert figures["instances_completed"] == N, figures
    assert figures["refund_rows"] == N and figures["gateway_refunds"] == N, figures
    assert figures["paid_once"] == N and figures["paid_twice"] == 0 and figures["lost"] == 0, figures
    assert figures["reconciled"] == N and figures["ledger_mismatches"] == 0 and figures["alerts"] == 0, figures


def _figures(sandbox) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ledger = sandbox.app.ledger.snapshot()
    per_trade = Counter(entry["trade"] for entry in ledger if entry["status"] == "success")
    kesu = {p.provider_payment_id: p.amount_refunded for p in db.session.execute(select(Payment)).scalars()}
    gateway = {entry["trade"]: Decimal(entry["amount"]) for entry in ledger if entry["status"] == "success"}
    states = Counter(db.session.execute(select(Refund.state)).scalars())
    return {
        "instances_completed": _count(select(func.count(ProcessInstance.id)).where(ProcessInstance.status == "completed")),
        "refund_rows": sum(states.values()), "gateway_refunds": len(ledger),
        "paid_once": sum(1 for n in per_trade.values() if n == 1), "paid_twice": sum(1 for n in per_trade.values() if n > 1),
        "lost": N - len(per_trade), "reconciled": states["reconciled"],
        "ledger_mismatches": sum(1 for ref, amount in kesu.items() if gateway.get(ref, Decimal("0")) != amount),
        "alerts": _count(select(func.count(PaymentAlert.id))),
        "resent_same_key": sum(1 for entry in ledger if entry["requests"] > 1),
        "queries": _count(select(func.coalesce(func.sum(Refund.queries), 0))),
        "jobs": _count(select(func.count(Job.id))),
        **{f"injected_{kind}": n for kind, n in sandbox.app.faults.injected.items()},
        "notifications_accepted": sandbox.app.notifier.sent,
    }
