"""`flask dashboard weekly --week 2026-W47 --out FILE` and `flask dashboard rebuild`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors import ValidationFailed
from app.runtime import get_runtime
from app.services import complaint_facts, weekly_review
from app.services.uow import run_command

cli = AppGroup("dashboard", help="The dashboard's rollup and the weekly review.")


@cli.command("weekly")
@click.option("--week", default="", help="ISO week like 2026-W47 (default: the last full week).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (.md or .csv by its suffix); default: Markdown to stdout.")
def weekly_command(week: str, out: Path | None) -> None:
    """Write the weekly review (top causes, SLA misses, suggested rule changes)."""
    now = get_runtime().clock.now()
    fmt = "csv" if out is not None and out.suffix.lower() == ".csv" else "md"
    try:
        chosen = weekly_review.parse_week(week, today=complaint_facts.shop_day(now))
    except ValidationFailed as refused:
        click.echo(refused.message, err=True)
        sys.exit(2)
    text, _ = weekly_review.render_file(weekly_review.build_review(chosen, now=now), fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"weekly review {chosen.label} written to {out}")


@cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the daily rollup from the complaint rows (after a bulk import)."""
    rows = run_command(complaint_facts.rebuild_rollup)
    click.echo(f"complaint_daily rebuilt: {rows} row(s)")
