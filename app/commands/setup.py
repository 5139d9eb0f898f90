"""`flask setup`: everything `make setup` needs, in one process, each step skipping fast when done.

The four steps are the individual commands (which stay): ``db upgrade heads``, ``bpmn deploy``,
``ml train --if-missing`` and ``demo load``. Run as four processes each paid the imports (~4 s);
here they are paid once, and a step with nothing to do is a query or two:
- the database is upgraded only when its current revisions are not the migration heads;
- bpmn/ and rules/ are validated and deployed only when no version holds exactly that content,
  and never over a version the studio deployed (reviewed work is not replaced by a file change
  without review; `flask bpmn deploy` does it on purpose);
- the classifier is trained only when no active model loads;
- the demo loaders add only what is missing (each is idempotent).
"""
from __future__ import annotations

import time

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import func, select

from app.commands import bpmn, demo, ml
from app.extensions import db
from app.models import ProcessDefinition
from app.models.studio import StudioDraft
from app.services import definitions
from workflows.definitions import content_hash


@click.command("setup")
@click.option("--actor", default="setup", show_default=True, help="Who deploys the seed definitions (audit log).")
@click.option("--password", default="kesu-demo", show_default=True, help="Password of every demo account.")
@click.option("--no-demo", is_flag=True, help="Skip the demo data (staff, customers, complaints, history).")
@click.pass_context
def setup_command(ctx: click.Context, actor: str, password: str, no_demo: bool) -> None:
    """Upgrade the database, deploy the seed definitions, train the classifier if missing, load the demo."""
    started = time.perf_counter()
    _step("database", _upgrade_database)
    _step("definitions", lambda: _deploy_seed(ctx, actor))
    _step("classifier", lambda: ctx.invoke(ml.train_command, data_csv=None, with_corrections=False,
                                           if_missing=True))
    if not no_demo:
        _step("demo data", lambda: ctx.invoke(demo.load_command, password=password))
    click.echo(f"setup done in {time.perf_counter() - started:.1f} s")


def _step(name: str, run) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    run()
    click.echo(f"  {name}: {time.perf_counter() - started:.2f} s", err=True)


def pending_migrations() -> tuple[set[str], set[str]]:
    """Return (current revisions, head revisions) of the app's database and migrations directory."""
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    db.session.rollback()  # only read; on SQLite the session's transaction would lock out the upgrade
    return current, heads


def _upgrade_database() -> None:
    current, heads = pending_migrations()
    if current == heads:
        click.echo(f"database at the migration heads ({', '.join(sorted(heads))}); nothing to upgrade")
        return
    upgrade(revision="heads")
    click.echo(f"database upgraded to {', '.join(sorted(heads))}")


def _deploy_seed(ctx: click.Context, actor: str) -> None:
    files = definitions.read_seed_files(current_app.config["BPMN_DIR"], current_app.config["RULES_DIR"])
    existing = db.session.execute(select(ProcessDefinition.version).where(
        ProcessDefinition.content_hash == content_hash(files))).scalar_one_or_none()
    if existing is not None:
        click.echo(f"definitions unchanged, already deployed as version {existing}")
        return
    newest = db.session.execute(select(func.max(ProcessDefinition.version))).scalar()
    draft = db.session.execute(select(StudioDraft).where(StudioDraft.deployed_version == newest)
                               .limit(1)).scalar_one_or_none() if newest is not None else None
    if draft is not None:
        click.echo(f"bpmn/ and rules/ changed, but the current version {newest} was deployed from the studio "
                   f"(draft {draft.id}: {draft.name}); not deploying the files over reviewed work. Import them "
                   f"into a studio draft for review, or deploy them on purpose: flask --app wsgi bpmn deploy")
        return
    ctx.invoke(bpmn.deploy_command, actor=actor, comment=None)
