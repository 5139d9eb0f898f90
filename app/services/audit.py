"""The hash-chained event log: append, and verify that nothing was altered.

Each stream (one per instance, plus ``system`` for admin actions) is a chain:
``hash = sha256(prev_hash || canonical_json(record))`` where the record holds every
column but the id. Rows are inserted in bulk; the database refuses updates and deletes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import GENESIS_HASH, ProcessEvent, ProcessInstance
from app.services import prepared
from app.services.audit_personal import personal_fields, redact
from workflows.engine import Event
from workflows.persistence import canonical_json

SYSTEM_STREAM = "system"


def instance_stream(instance_id: int) -> str:
    return f"instance:{instance_id}"


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def event_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """Chain a record onto the previous hash."""
    return hashlib.sha256((prev_hash + canonical_json(record)).encode("utf-8")).hexdigest()


def _record(row: dict[str, Any]) -> dict[str, Any]:
    return {"stream": row["stream"], "seq": row["seq"], "instance_id": row["instance_id"],
            "event_type": row["event_type"], "task_id": row["task_id"], "task_name": row["task_name"],
            "actor": row["actor"], "occurred_at": _timestamp(row["occurred_at"]), "payload": row["payload"]}


def chain_events(stream: str, instance_id: int | None, events: Iterable[Event], *,
                 head: tuple[int, str], now: datetime, actor: str | None = None
                 ) -> tuple[tuple[int, str], list[dict[str, Any]]]:
    """Hash-chain events after ``head`` (seq, hash); return the new head and the rows to insert."""
    seq, prev = head
    rows = []
    fields, occurred_at = personal_fields(), _timestamp(now)
    for event in events:
        seq += 1
        record = {"stream": stream, "seq": seq, "instance_id": instance_id, "event_type": event.type,
                  "task_id": event.task_id, "task_name": event.task_name, "actor": event.actor or actor,
                  "occurred_at": occurred_at,
                  "payload": canonical_json(redact(instance_id, event.payload, now, fields))}
        hashed = event_hash(prev, record)  # what _record() gives back for the stored row
        rows.append({**record, "occurred_at": now, "prev_hash": prev, "hash": hashed})
        prev = hashed
    return (seq, prev), rows


_INSERT_EVENTS = insert(ProcessEvent.__table__)  # built once: building costs more than running it


def insert_events(rows: list[dict[str, Any]]) -> None:
    """Insert chained rows in one statement."""
    if rows:
        prepared.execute(_INSERT_EVENTS, rows)


def append_events(stream: str, instance_id: int | None, events: Iterable[Event], *,
                  head: tuple[int, str], now: datetime, actor: str | None = None) -> tuple[int, str]:
    """Chain and insert events; return the stream's new head."""
    new_head, rows = chain_events(stream, instance_id, events, head=head, now=now, actor=actor)
    insert_events(rows)
    return new_head


def record_system_event(event_type: str, payload: dict[str, Any], *, actor: str | None,
                        now: datetime) -> None:
    """Append an admin action (deploy, role change, manual mark) to the system chain."""
    last = db.session.execute(
        select(ProcessEvent.seq, ProcessEvent.hash).where(ProcessEvent.stream == SYSTEM_STREAM)
        .order_by(ProcessEvent.seq.desc()).limit(1)).first()
    head = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    append_events(SYSTEM_STREAM, None, [Event(event_type, payload, actor=actor)], head=head, now=now)


def record_assignment(action: str, task: Any, before: str | None, *, actor: str | None, now: datetime) -> None:
    """Record a claim, unclaim or reassignment of a human task (before/after assignee) in the system chain."""
    record_system_event(f"task.{action}", {"task_id": task.task_id, "task_name": task.name,
                                           "instance_id": task.instance_id, "before": {"assignee": before},
                                           "after": {"assignee": task.assignee}}, actor=actor, now=now)


@dataclass
class ChainReport:
    """The outcome of checking one or more chains."""

    intact: bool
    checked: int
    streams: int
    first_bad: dict[str, Any] | None = None

    def describe(self) -> str:
        if self.intact:
            return f"intact: {self.checked} events in {self.streams} chain(s) verified"
        bad = self.first_bad or {}
        return (f"TAMPERED: {bad.get('reason')} at event id {bad.get('id')} "
                f"({bad.get('stream')} seq {bad.get('seq')})")


def verify_chains(instance_id: int | None = None) -> ChainReport:
    """Recompute every hash of one instance's chain, or of the whole log, in order."""
    query = select(ProcessEvent).order_by(ProcessEvent.stream, ProcessEvent.seq)
    if instance_id is not None:
        query = query.where(ProcessEvent.stream == instance_stream(instance_id))
    checked, streams, current, expected_seq, prev = 0, 0, None, 0, GENESIS_HASH
    for event in db.session.execute(query).scalars().yield_per(1000):
        if event.stream != current:
            current, expected_seq, prev, streams = event.stream, 0, GENESIS_HASH, streams + 1
        expected_seq += 1
        problem = _check(event, expected_seq, prev)
        if problem:
            return ChainReport(False, checked, streams, {"id": event.id, "stream": event.stream,
                                                         "seq": event.seq, "reason": problem})
        prev = event.hash
        checked += 1
    truncated = head_problems(instance_id)
    if truncated:
        return ChainReport(False, checked, streams, truncated[0])
    return ChainReport(True, checked, streams)


def head_problems(instance_id: int | None = None) -> list[dict[str, Any]]:
    """Instances whose row's chain head is not their last stored event (the tail was cut off)."""
    last = (select(ProcessEvent.instance_id, func.max(ProcessEvent.seq).label("seq"))
            .where(ProcessEvent.instance_id.is_not(None)).group_by(ProcessEvent.instance_id).subquery())
    query = (select(ProcessInstance.id, ProcessInstance.event_seq, ProcessInstance.event_head,
                    ProcessEvent.id.label("event_id"), ProcessEvent.seq, ProcessEvent.hash)
             .outerjoin(last, last.c.instance_id == ProcessInstance.id)
             .outerjoin(ProcessEvent, (ProcessEvent.instance_id == ProcessInstance.id)
                        & (ProcessEvent.seq == last.c.seq)).order_by(ProcessInstance.id))
    if instance_id is not None:
        query = query.where(ProcessInstance.id == instance_id)
    problems = []
    for row in db.session.execute(query):
        found = (row.seq or 0, row.hash or GENESIS_HASH)
        if found != (row.event_seq, row.event_head):
            problems.append({"id": row.event_id, "stream": instance_stream(row.id), "seq": row.seq or 0,
                             "reason": f"truncated: the instance row records chain head seq {row.event_seq}, "
                                       f"the last stored event is seq {row.seq or 0}"})
    return problems


def _check(event: ProcessEvent, expected_seq: int, prev: str) -> str | None:
    if event.seq != expected_seq:
        return f"sequence gap: expected seq {expected_seq}, found {event.seq} (an event was removed or reordered)"
    if event.prev_hash != prev:
        return "prev_hash does not match the previous event (an event was removed, inserted or reordered)"
    row = {c: getattr(event, c) for c in ("stream", "seq", "instance_id", "event_type", "task_id",
                                          "task_name", "actor", "occurred_at", "payload")}
    if event_hash(prev, _record(row)) != event.hash:
        return "content does not match its hash (the event was edited)"
    return None
