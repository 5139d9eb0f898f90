"""Retention: purge the working state of closed instances after RETENTION_DAYS (per process).

The audit record (the hash-chained events) stays; the instance row keeps its status and shows
"purged" (``state`` is empty). Each purge is recorded in the system chain.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import InstanceStatus, ProcessInstance
from app.services.audit import record_system_event

CLOSED = (InstanceStatus.COMPLETED.value, InstanceStatus.CANCELLED.value)
RETENTION_EVERY_SECONDS = 3600


def is_purged(instance: ProcessInstance) -> bool:
    """A closed instance whose working state was purged."""
    return instance.status in CLOSED and not instance.state


def _expired(process_id: str, days: int, now: datetime) -> list[ProcessInstance]:
    closed_at = func.coalesce(ProcessInstance.completed_at, ProcessInstance.updated_at)
    return list(db.session.execute(select(ProcessInstance).where(
        ProcessInstance.process_id == process_id, ProcessInstance.status.in_(CLOSED),
        ProcessInstance.state.is_not(None), closed_at < now - timedelta(days=days))
        .order_by(ProcessInstance.id)).scalars())


def purge_expired(now: datetime) -> list[int]:
    """Purge every closed instance past its process's retention; record one system event per process."""
    purged: list[int] = []
    for process_id, days in sorted((current_app.config.get("RETENTION_DAYS") or {}).items()):
        instances = _expired(process_id, int(days), now)
        for instance in instances:
            instance.state = None
            instance.updated_at = now
        if instances:
            ids = [i.id for i in instances]
            db.session.flush()
            record_system_event("retention.purged", {"process_id": process_id, "retention_days": int(days),
                                                     "instances": ids}, actor="retention", now=now)
            purged.extend(ids)
    return purged


def retention_chore(now: datetime) -> None:
    """Run by the scheduler, in its own unit of work."""
    purge_expired(now)


def register_retention(runtime: Any) -> None:
    """Register the hourly retention chore."""
    runtime.register_chore("audit.retention", retention_chore, every_seconds=RETENTION_EVERY_SECONDS)
