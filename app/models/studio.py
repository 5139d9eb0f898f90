"""Analyst studio drafts: a named set of process, rule and form files being edited and reviewed."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime
from app.extensions import db


class DraftStatus(str, enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DEPLOYED = "deployed"


# Which status each studio action may start from; the service refuses every other move.
DRAFT_TRANSITIONS: dict[str, tuple[DraftStatus, ...]] = {
    "edit": (DraftStatus.DRAFT, DraftStatus.IN_REVIEW, DraftStatus.APPROVED),
    "request_review": (DraftStatus.DRAFT,),
    "approve": (DraftStatus.IN_REVIEW,),
    "deploy": (DraftStatus.APPROVED,),
}


class StudioDraft(db.Model):
    """A named set of files copied from a deployed version (or imported), edited by analysts."""

    __tablename__ = "studio_draft"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'in_review', 'approved', 'deployed')",
                        name="status_known"),
        Index("ix_studio_draft_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    author: Mapped[str] = mapped_column(String(80))
    base_version: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=DraftStatus.DRAFT.value)
    review_requested_by: Mapped[str | None] = mapped_column(String(80))
    review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deployed_version: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))

    files: Mapped[list[StudioDraftFile]] = relationship(
        back_populates="draft", order_by="StudioDraftFile.path", cascade="all, delete-orphan")

    def file_map(self) -> dict[str, str]:
        """Return {path: text} for every file of the draft."""
        return {f.path: f.content for f in self.files}


class StudioDraftFile(db.Model):
    """One file of a draft: bpmn/..., rules/... or bpmn/forms/...json."""

    __tablename__ = "studio_draft_file"
    __table_args__ = (UniqueConstraint("draft_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("studio_draft.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)

    draft: Mapped[StudioDraft] = relationship(back_populates="files")
