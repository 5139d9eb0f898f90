"""`flask bpmn validate FILE...` and `flask bpmn deploy`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import DefinitionInvalid
from app.runtime import get_runtime
from app.services import definitions
from app.services.uow import run_command
from workflows.definitions import file_kind
from workflows.validation import validate_files

cli = AppGroup("bpmn", help="Validate and deploy BPMN diagrams, DMN tables and forms.")


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def validate_command(paths: tuple[str, ...]) -> None:
    """Check files; print one line per problem and exit 1 if any is an error."""
    files: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        if file_kind(path.name) is None:
            click.echo(f"{raw}: not a .bpmn, .dmn or .json form file", err=True)
            sys.exit(1)
        files[raw] = path.read_bytes().decode("utf-8", errors="replace")
    problems = validate_files(files, operators=get_runtime().operators,
                              max_bytes=current_app.config["MAX_DIAGRAM_BYTES"])
    for problem in problems:
        click.echo(str(problem))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        click.echo(f"{len(errors)} error(s); the files cannot be deployed", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} file(s) valid")


@cli.command("deploy")
@click.option("--actor", default="cli", help="Who deploys (recorded in the audit log).")
@click.option("--comment", default=None)
def deploy_command(actor: str, comment: str | None) -> None:
    """Deploy bpmn/ and rules/ as a new version, unless that content is already deployed."""
    files = definitions.read_seed_files(current_app.config["BPMN_DIR"], current_app.config["RULES_DIR"])
    now = get_runtime().clock.now()
    try:
        definition, created = run_command(
            lambda: definitions.deploy(files, actor=actor, now=now, approved_by=actor, comment=comment))
    except DefinitionInvalid as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    state = "deployed" if created else "unchanged, already deployed as"
    click.echo(f"{state} version {definition.version} ({definition.content_hash[:12]}): "
               f"{', '.join(definition.process_ids)}")
