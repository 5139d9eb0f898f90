"""Deployed process definitions and the instances pinned to them."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime
from app.extensions import db


class ProcessDefinition(db.Model):
    """One deployed version: a set of BPMN, DMN and form files with one content hash."""

    __tablename__ = "process_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    process_ids: Mapped[list] = mapped_column(db.JSON)
    deployed_by: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str | None] = mapped_column(String(80))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    files: Mapped[list[DefinitionFile]] = relationship(
        back_populates="definition", order_by="DefinitionFile.path", cascade="all, delete-orphan"
    )

    def file_map(self) -> dict[str, str]:
        """Return {path: text} for every file of this version."""
        return {f.path: f.content for f in self.files}


class DefinitionFile(db.Model):
    """One file of a deployed version (bpmn/..., rules/..., bpmn/forms/...)."""

    __tablename__ = "process_definition_file"
    __table_args__ = (UniqueConstraint("definition_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    path: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # bpmn | dmn | form
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)

    definition: Mapped[ProcessDefinition] = relationship(back_populates="files")


class InstanceStatus(str, enum.Enum):
    RUNNING = "running"      # the engine has work it can do now (e.g. queued service calls)
    WAITING = "waiting"      # waiting for people, timers, messages or jobs
    COMPLETED = "completed"
    ERROR = "error"          # an incident: see error_message; can be retried
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


class ProcessInstance(db.Model):
    """A running or finished process; its state is the spec-less SpiffWorkflow snapshot."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(20), default=InstanceStatus.RUNNING.value)
    state: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Head of this instance's hash chain, kept here so appending needs no extra query.
    event_seq: Mapped[int] = mapped_column(default=0)
    event_head: Mapped[str] = mapped_column(String(64), default="0" * 64)
    version: Mapped[int] = mapped_column(default=1)

    definition: Mapped[ProcessDefinition] = relationship()

    __mapper_args__ = {"version_id_col": version}
