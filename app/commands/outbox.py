"""`flask outbox send`: deliver the due notifications now (the scheduler does it every 10 seconds)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.outbox_worker import deliver_round, senders_for_app
from app.runtime import get_runtime

cli = AppGroup("outbox", help="The notification outbox.")


@cli.command("send")
def send_command() -> None:
    """Claim and send every due message once; print what was sent, retried and given up."""
    totals = {"sent": 0, "retrying": 0, "failed": 0, "lost": 0}
    while True:
        result = deliver_round(senders_for_app(), now=get_runtime().clock.now())
        for name in totals:
            totals[name] += len(getattr(result, name))
        if not any(vars(result).values()):
            break
    click.echo(", ".join(f"{count} {name}" for name, count in totals.items()))
