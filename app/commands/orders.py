"""`flask orders import CSV`: bulk-load the shop's orders (all or nothing) and `orders customer-token`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors import ValidationFailed
from app.runtime import get_runtime
from app.services import customers, orders
from app.services.uow import run_command

cli = AppGroup("orders", help="Shop orders and customer accounts.")


@cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(csv_file: Path) -> None:
    """Import orders from CSV_FILE (columns: order_ref, customer_name, customer_phone, customer_email,
    items (JSON), amount_paid, currency, payment_method, paid_at); exit 2 naming each bad line."""
    now = get_runtime().clock.now()
    try:
        imported, skipped = run_command(lambda: orders.import_csv(csv_file, now=now))
    except ValidationFailed as refused:
        for line, message in refused.fields.items():
            click.echo(f"{csv_file}:{line}: {message}", err=True)
        click.echo(refused.message, err=True)
        sys.exit(2)
    click.echo(f"{imported} order(s) imported, {skipped} already known and skipped")


@cli.command("customer-token")
@click.argument("customer_id", type=int)
@click.option("--name", default="app", show_default=True, help="What the token is for.")
def customer_token_command(customer_id: int, name: str) -> None:
    """Mint a mobile-app bearer token for a customer and print it once."""
    now = get_runtime().clock.now()
    click.echo(run_command(lambda: customers.issue_token(customer_id, name=name, now=now)))
