"""`flask audit verify [ID]`, `flask audit replay ID`."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.services.audit import verify_chains
from app.services.audit_replay import replay_instance

cli = AppGroup("audit", help="Check the tamper-evident process history.")


@cli.command("verify")
@click.argument("instance_id", type=int, required=False)
def verify_command(instance_id: int | None) -> None:
    """Recompute the hash chain of one instance (or the whole log); exit 1 at the first bad event."""
    report = verify_chains(instance_id)
    click.echo(report.describe())
    if not report.intact:
        sys.exit(1)


@cli.command("replay")
@click.argument("instance_id", type=int)
def replay_command(instance_id: int) -> None:
    """Re-execute an instance from its pinned version and recorded inputs; exit 1 on a difference."""
    report = replay_instance(instance_id)
    click.echo(report.describe())
    if not report.identical:
        sys.exit(1)
