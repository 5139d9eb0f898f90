"""The knowledge base: closed cases with their category, resolution and reply."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
