"""The human-task projection: what task lists query, kept in step with the engine."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class TaskStatus(str, enum.Enum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HumanTask(db.Model):
    """One user task that is (or was) ready for a person."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_queue", "candidate_group", "status", "priority", "created_at"),
        Index("ix_human_task_assignee", "assignee", "status", "created_at"),
        Index("ix_human_task_instance", "instance_id", "status"),
        # the agent workspace's lists, each read in its sort order (keyset paging)
        Index("ix_human_task_group_queue", "candidate_group", "status", "assignee", "priority", "created_at", "id"),
        Index("ix_human_task_my_tasks", "assignee", "status", "priority", "created_at", "id"),
        Index("ix_human_task_team", "status", "priority", "created_at", "id"),
        Index("ix_human_task_done_by", "completed_by", "status", "completed_at", "id"),
        # sorting by SLA due time (migration 0090); the team one also serves the supervisor's breaches
        Index("ix_human_task_queue_due", "candidate_group", "status", "assignee", "due_at", "id"),
        Index("ix_human_task_mine_due", "assignee", "status", "due_at", "id"),
        Index("ix_human_task_team_due", "status", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    process_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(255))
    form_key: Mapped[str | None] = mapped_column(String(120))
    candidate_group: Mapped[str | None] = mapped_column(String(80))
    assignee: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN.value)
    priority: Mapped[int] = mapped_column(default=2)  # 1 high, 2 medium, 3 low
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instructions: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(80))
    # denormalised from the task data when the task is projected, so a list is one query
    category: Mapped[str | None] = mapped_column(String(80))
    emotion: Mapped[str | None] = mapped_column(String(20))
    order_amount: Mapped[float | None] = mapped_column()
    customer: Mapped[str | None] = mapped_column(String(120))
    complaint_ref: Mapped[str | None] = mapped_column(String(40))
    requested_by: Mapped[str | None] = mapped_column(String(120))  # four-eyes requester
