"""Projections of what an instance waits for: timers (polled by due time) and messages."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class TimerStatus(str, enum.Enum):
    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"


class Timer(db.Model):
    """A timer event waiting in an instance; the scheduler turns due ones into jobs."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    task_name: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=TimerStatus.WAITING.value)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageWait(db.Model):
    """A message catch event waiting in an instance, indexed by name and correlation."""

    __tablename__ = "message_wait"
    __table_args__ = (Index("ix_message_wait_lookup", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    message_name: Mapped[str] = mapped_column(String(120))
    correlation_key: Mapped[str] = mapped_column(String(500))
