"""`flask instances list|show|retry`."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.errors import KesuError
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessEvent, ProcessInstance, TaskStatus
from app.runtime import get_runtime
from app.services import processes
from app.services.uow import run_command

cli = AppGroup("instances", help="Inspect and repair process instances.")


@cli.command("list")
@click.option("--status", default=None, type=click.Choice([s.value for s in InstanceStatus]),
              help="Only instances in this state.")
@click.option("--limit", default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """List the newest instances."""
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(limit)
    if status:
        query = query.where(ProcessInstance.status == status)
    for inst in db.session.execute(query).scalars():
        click.echo(f"{inst.id:>6}  {inst.process_id:<24} v{inst.definition.version:<3} {inst.status:<10} "
                   f"{inst.business_key or '-':<16} {inst.updated_at:%Y-%m-%d %H:%M:%S}"
                   + (f"  ! {inst.error_message}" if inst.error_message else ""))


@cli.command("show")
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show_command(instance_id: int, as_json: bool) -> None:
    """Show an instance: status, open tasks, and its event history."""
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None:
        click.echo(f"instance {instance_id} does not exist", err=True)
        sys.exit(1)
    tasks = db.session.execute(select(HumanTask).where(HumanTask.instance_id == inst.id,
                                                       HumanTask.status == TaskStatus.OPEN.value)).scalars().all()
    events = db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == inst.id)
                                .order_by(ProcessEvent.seq)).scalars().all()
    if as_json:
        click.echo(json.dumps({
            "id": inst.id, "process_id": inst.process_id, "version": inst.definition.version,
            "status": inst.status, "error": inst.error_message, "business_key": inst.business_key,
            "open_tasks": [{"task_id": t.task_id, "name": t.name, "group": t.candidate_group} for t in tasks],
            "events": [{"seq": e.seq, "type": e.event_type, "task": e.task_name, "actor": e.actor,
                        "at": e.occurred_at.isoformat(), "payload": json.loads(e.payload)} for e in events],
        }, ensure_ascii=False, indent=2))
        return
    click.echo(f"instance {inst.id}: {inst.process_id} version {inst.definition.version} — {inst.status}")
    if inst.error_message:
        click.echo(f"  incident: {inst.error_message}")
    for task in tasks:
        click.echo(f"  open task {task.task_id}: {task.title} (group {task.candidate_group or '-'}, "
                   f"assignee {task.assignee or '-'})")
    for e in events:
        click.echo(f"  {e.seq:>4} {e.occurred_at:%Y-%m-%d %H:%M:%S} {e.event_type:<20} {e.task_name or '':<20} "
                   f"{e.actor or '':<10} {e.payload[:120]}")


@cli.command("retry")
@click.argument("instance_id", type=int)
@click.option("--actor", default="cli")
def retry_command(instance_id: int, actor: str) -> None:
    """Re-run the failed steps of an instance in error."""
    now = get_runtime().clock.now()
    try:
        inst = run_command(lambda: processes.retry_instance(instance_id, actor=actor, now=now))
    except KesuError as error:
        click.echo(error.message, err=True)
        sys.exit(1)
    click.echo(f"instance {inst.id} is now {inst.status}")
