"""`flask audit verify [ID] [--anchor FILE]`, `anchor`, `replay ID`, `erase-customer ID`, `purge`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import ValidationFailed
from app.extensions import db
from app.models import ProcessInstance
from app.runtime import get_runtime
from app.services.audit import verify_chains
from app.services.audit_personal import erase_customer
from app.services.audit_anchor import anchor_folder, check_anchor, load_anchor, write_anchor
from app.services.audit_replay import replay_instance
from app.services.audit_retention import purge_expired
from app.services.uow import run_command

cli = AppGroup("audit", help="Check the tamper-evident process history.")


@cli.command("verify")
@click.argument("instance_id", type=int, required=False)
@click.option("--anchor", "anchor_file", type=click.Path(exists=True, dir_okay=False),
              help="Also check that every chain head in this anchor file is still there, unchanged.")
def verify_command(instance_id: int | None, anchor_file: str | None) -> None:
    """Recompute the hash chain of one instance (or the whole log); exit 1 at the first bad event."""
    report = verify_chains(instance_id)
    if (instance_id is not None and report.intact and report.checked == 0
            and db.session.get(ProcessInstance, instance_id) is None):
        click.echo(f"instance {instance_id} does not exist: it has neither a row nor events to verify", err=True)
        sys.exit(1)
    click.echo(report.describe())
    intact = report.intact
    if anchor_file:
        try:
            anchored = check_anchor(load_anchor(Path(anchor_file).read_text(encoding="utf-8")))
        except ValidationFailed as error:
            click.echo(f"anchor refused: {error}")
            sys.exit(1)
        click.echo(anchored.describe())
        intact = intact and anchored.intact
    if not intact:
        sys.exit(1)


@cli.command("anchor")
@click.option("--folder", type=click.Path(file_okay=False), default=None,
              help="Where to write the anchor (default: AUDIT_ANCHOR_DIR or <instance>/anchors).")
@click.option("--even-if-broken", is_flag=True,
              help="Write the anchor although a chain does not verify (it then vouches for altered history).")
def anchor_command(folder: str | None, even_if_broken: bool) -> None:
    """Verify every chain, then write a signed file with every chain's head and the global head.

    An anchor says "the log was like this at that time"; signing heads of a chain that no longer
    verifies would vouch for the alteration, so a broken log is refused unless --even-if-broken.
    """
    report = verify_chains()
    if not report.intact and not even_if_broken:
        click.echo(f"no anchor written: the log does not verify ({report.describe()}); investigate first, "
                   f"or pass --even-if-broken to anchor it as it is", err=True)
        sys.exit(1)
    path = write_anchor(folder or anchor_folder(current_app.config), get_runtime().clock.now())
    click.echo(f"anchor written: {path}" + ("" if report.intact else " (over a log that does NOT verify)"))


@cli.command("replay")
@click.argument("instance_id", type=int)
def replay_command(instance_id: int) -> None:
    """Re-execute an instance from its pinned version and recorded inputs; exit 1 on a difference."""
    report = replay_instance(instance_id)
    click.echo(report.describe())
    if not report.identical:
        sys.exit(1)


@cli.command("erase-customer")
@click.argument("customer_id")
@click.option("--actor", default="cli", show_default=True, help="Who asked for the erasure (recorded).")
def erase_customer_command(customer_id: str, actor: str) -> None:
    """Erase a customer's personal data (kept outside the hash chain); the chain still verifies."""
    now = get_runtime().clock.now()
    result = run_command(lambda: erase_customer(customer_id, actor=actor, now=now))
    click.echo(f"erased {result['values_erased']} personal value(s) of customer {customer_id} "
               f"in {len(result['instances'])} instance(s); recorded in the system chain")


@cli.command("purge")
def purge_command() -> None:
    """Purge the working state of closed instances older than their process's RETENTION_DAYS now."""
    now = get_runtime().clock.now()
    purged = run_command(lambda: purge_expired(now))
    click.echo(f"purged the working state of {len(purged)} instance(s)")
