"""`flask users token USERNAME [--name N]`: mint a bearer token for the JSON API."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.errors import KesuError
from app.runtime import get_runtime
from app.services import api_tokens
from app.services.uow import run_command

cli = AppGroup("users", help="Staff accounts and their API tokens.")


@cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for (shown to admins).")
def token_command(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it once (only its SHA-256 is kept)."""
    now = get_runtime().clock.now()
    try:
        token, _row = run_command(lambda: api_tokens.issue_token(username, name=name, now=now))
    except KesuError as error:
        click.echo(error.message, err=True)
        sys.exit(1)
    click.echo(token)
