"""`flask complaints cleanup-uploads`: remove complaint photos that no complaint refers to."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.runtime import get_runtime
from app.services.uow import run_command
from app.services.uploads import remove_orphans, upload_folder

cli = AppGroup("complaints", help="Customer complaints: housekeeping.")


@cli.command("cleanup-uploads")
@click.option("--dry-run", is_flag=True, help="Only list the files that would be removed.")
@click.option("--older-than-hours", type=click.IntRange(min=0), default=None,
              help="Only files older than this (default: UPLOAD_ORPHAN_HOURS, 24).")
def cleanup_uploads_command(dry_run: bool, older_than_hours: int | None) -> None:
    """Remove stored photos with no complaint attachment row (a failed or abandoned submission)."""
    hours = current_app.config["UPLOAD_ORPHAN_HOURS"] if older_than_hours is None else older_than_hours
    folder, now = upload_folder(), get_runtime().clock.now()
    orphans = run_command(lambda: remove_orphans(folder, now=now, older_than=timedelta(hours=hours),
                                                 dry_run=dry_run))
    for path in orphans:
        click.echo(f"{'would remove' if dry_run else 'removed'} {path}")
    click.echo(f"{len(orphans)} orphaned photo(s) older than {hours} h in {folder}"
               f"{' (dry run: nothing removed)' if dry_run else ' removed'}")
