"""The agent workspace's own data: out-of-office substitutes, reply templates, internal comments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db

GROUPS = ("tier1-product", "tier1-logistics", "tier1-billing", "tier2", "qa", "supervisors", "team-leads", "finance")


class Substitution(db.Model):
    """While ``starts_at <= now < ends_at`` the substitute sees and may work the absent person's tasks."""

    __tablename__ = "substitution"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_forward"),
        CheckConstraint("absent_username <> substitute_username", name="not_self"),
        Index("ix_substitution_substitute", "substitute_username", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    absent_username: Mapped[str] = mapped_column(String(80))
    substitute_username: Mapped[str] = mapped_column(String(80))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReplyTemplate(db.Model):
    """A reply from the knowledge base; ``{customer_name}``, ``{order_ref}``, ``{amount}`` are filled in."""

    __tablename__ = "reply_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str | None] = mapped_column(String(80))  # None: fits every category
    body: Mapped[str] = mapped_column(Text)
    # managed in the knowledge base (/kb/templates); NULL on the templates seeded by migration 0060
    language: Mapped[str | None] = mapped_column(String(8))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_by: Mapped[str | None] = mapped_column(String(80))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # archived: no longer offered


class TaskComment(db.Model):
    """An internal comment on a complaint's instance, never shown to the customer."""

    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskWorkload(db.Model):
    """Open human tasks per (candidate group, assignee); '' means no group / unclaimed.

    Written only by database triggers on ``human_task`` (migration 0090), in the same transaction
    as the task row, so it is exact whoever writes tasks; the application only reads it.
    """

    __tablename__ = "task_workload"

    candidate_group: Mapped[str] = mapped_column(String(80), primary_key=True)
    assignee: Mapped[str] = mapped_column(String(80), primary_key=True)
    open_count: Mapped[int] = mapped_column()
