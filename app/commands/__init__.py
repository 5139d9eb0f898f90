"""CLI command groups (`flask --app wsgi <group> <command>`)."""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from app.commands import audit, bpmn, demo, instances, ml, users, worker

    for group in (bpmn.cli, instances.cli, audit.cli, demo.cli, ml.cli, users.cli):
        app.cli.add_command(group)
    app.cli.add_command(worker.worker_command)
    app.cli.add_command(worker.scheduler_command)
    app.cli.add_command(worker.serve_command)
    from app.commands import payments
    app.cli.add_command(payments.cli)
    from app.commands import orders
    app.cli.add_command(orders.cli)
    from app.commands import outbox
    app.cli.add_command(outbox.cli)
    from app.commands import dashboard
    app.cli.add_command(dashboard.cli)
    from app.commands import complaints
    app.cli.add_command(complaints.cli)
    from app.commands import setup
    app.cli.add_command(setup.setup_command)
