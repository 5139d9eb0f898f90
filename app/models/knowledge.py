"""The knowledge base: solution articles, and closed cases with their category, resolution and reply."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class KnowledgeCase(db.Model):
    """One archived complaint, for agents looking for how a similar case was solved."""

    __tablename__ = "knowledge_case"
    __table_args__ = (Index("ix_knowledge_case_category", "category", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(80))
    resolution: Mapped[str] = mapped_column(String(80))
    reply: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)  # the complaint's text; staff only (personal data)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


ARTICLE_LANGUAGES = ("zh", "en")
ARTICLE_STATUSES = ("draft", "published", "archived")


class KbArticle(db.Model):
    """A solution article written by supervisors; published ones are shown to customers too."""

    __tablename__ = "kb_article"
    __table_args__ = (
        CheckConstraint("language IN ('zh', 'en')", name="language_known"),
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status_known"),
        CheckConstraint("length(title) > 0", name="title_present"),
        Index("ix_kb_article_list", "status", "category", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(80))  # None: fits every category
    tags: Mapped[str] = mapped_column(String(255), default="")  # comma separated
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_by: Mapped[str | None] = mapped_column(String(80))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]
