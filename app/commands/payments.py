"""`flask payments sandbox`: the sandbox gateway; `flask payments reconcile`: queue reconciliation now."""
from __future__ import annotations

import threading
from decimal import Decimal
from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Payment
from app.payments.sandbox.server import SandboxApp, SandboxServer
from app.runtime import get_runtime
from app.services.payment_tasks import reconcile
from app.services.uow import run_command

cli = AppGroup("payments", help="Refund payments: the sandbox gateway and reconciliation.")


@cli.command("sandbox")
@click.option("--port", default=5001, show_default=True, help="Loopback port to serve on.")
@click.option("--settle-after", default=2.0, show_default=True, help="Seconds before WeChat/Stripe refunds settle.")
@click.option("--lost", default=0.0, help="Share of refund requests whose answer is lost after money moved.")
@click.option("--error500", default=0.0, help="Share of refund requests answered 500 (nothing moves).")
@click.option("--duplicate", default=0.0, help="Share of notifications sent twice.")
def sandbox_command(port: int, settle_after: float, lost: float, error500: float, duplicate: float) -> None:
    """Serve the sandbox gateway (Alipay, WeChat Pay and Stripe styles) on 127.0.0.1."""
    notify = current_app.config["PAYMENTS_NOTIFY_BASE_URL"].rstrip("/") + "/payments/notify/stripe"
    app = SandboxApp(settle_after=settle_after, stripe_webhook_url=notify,
                     known_trade=kesu_payments(current_app._get_current_object()))  # type: ignore[attr-defined]
    app.faults.configure(lost=lost, error500=error500, duplicate=duplicate)
    running = SandboxServer(app, make_server("127.0.0.1", port, app, threaded=True))
    click.echo(f"sandbox gateway on {running.url} (faults: lost={lost}, 500={error500}, duplicate={duplicate})")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()


def kesu_payments(flask_app: Flask) -> Callable[[str, str], tuple[Decimal, str] | None]:
    """Let the sandbox refund any payment Kesu recorded (demo orders, imports), not only trades opened on it."""
    def known_trade(provider: str, ref: str) -> tuple[Decimal, str] | None:
        with flask_app.app_context():
            payment = db.session.execute(select(Payment).where(
                Payment.provider == provider, Payment.provider_payment_id == ref)).scalar_one_or_none()
            return (payment.amount, payment.currency) if payment is not None else None
    return known_trade


@cli.command("reconcile")
def reconcile_command() -> None:
    """Queue a gateway query for every unknown, long-submitted or unreconciled refund."""
    count = run_command(lambda: reconcile(get_runtime().clock.now()))
    click.echo(f"queued {count} refund queries; the worker runs them")
