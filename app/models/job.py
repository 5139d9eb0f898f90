"""Background jobs: asynchronous service calls, timer firings and scheduled chores."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"     # claimed; the lease says until when
    DONE = "done"
    FAILED = "failed"       # gave up after max_attempts; an incident was raised
    CANCELLED = "cancelled"


class Job(db.Model):
    """One unit of background work, run to completion once per idempotency key."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_claim", "status", "run_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))       # service | timer | chore
    operator: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict] = mapped_column(db.JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    instance_id: Mapped[int | None] = mapped_column(index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(db.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
