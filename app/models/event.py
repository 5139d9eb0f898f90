"""The append-only, hash-chained process event log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db

GENESIS_HASH = "0" * 64


class ProcessEvent(db.Model):
    """One event; ``hash = sha256(prev_hash || canonical_json(record))``.

    ``stream`` is the chain an event belongs to: ``instance:<id>`` for an instance's
    history, ``system`` for deploys and other admin actions. The app never updates or
    deletes rows; database triggers refuse it.
    """

    __tablename__ = "process_event"
    __table_args__ = (
        UniqueConstraint("stream", "seq", name="uq_process_event_stream_seq"),
        Index("ix_process_event_instance", "instance_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stream: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    instance_id: Mapped[int | None]
    event_type: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(120))
    actor: Mapped[str | None] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
