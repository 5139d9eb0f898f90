"""Replay a stored instance from its pinned version and its recorded events (see workflows.replay)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessDefinition, ProcessEvent
from app.runtime import get_runtime
from app.services import audit_personal, definitions, processes
from workflows.definitions import SpecBundle
from workflows.replay import RecordedEvent, ReplayReport, parse_payload, replay


def recorded_events(instance_id: int) -> list[RecordedEvent]:
    """The instance's history, in chain order, as replay reads it."""
    rows = list(db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                   .order_by(ProcessEvent.seq)).scalars())
    payloads = audit_personal.resolve([parse_payload(r.payload) for r in rows])  # personal values back
    return [RecordedEvent(r.seq, r.event_type, r.task_id, r.task_name, r.actor, r.occurred_at, payload)
            for r, payload in zip(rows, payloads)]


def replay_instance(instance_id: int) -> ReplayReport:
    """Re-execute one instance (services answered from the log) and compare with what is stored."""
    instance = processes.get_instance(instance_id)
    runtime = get_runtime()
    return replay(definitions.bundle_for_id(instance.definition_id), instance.process_id,
                  recorded_events(instance_id), instance_id=instance.id, stored_state=instance.state,
                  environment=runtime.environment, max_tasks=runtime.max_tasks, bundles=bundle_by_hash)


def bundle_by_hash(content_hash: str) -> SpecBundle:
    """The parsed specs of the deployed version with this content (a migrated instance ran on several)."""
    definition = db.session.execute(select(ProcessDefinition)
                                    .where(ProcessDefinition.content_hash == content_hash)).scalar_one_or_none()
    if definition is None:
        raise LookupError(f"no deployed version has content {content_hash}")
    return definitions.bundle_for(definition)
