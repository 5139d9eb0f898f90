"""The classifier registry (one row per trained model version) and agents' label corrections."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES
from app.database import UTCDateTime
from app.extensions import db


def _one_of(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


class ClassifierModel(db.Model):
    """A trained classifier version: where its artifact is, what it was trained on, how it scored."""

    __tablename__ = "classifier_model"
    __table_args__ = (
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("NOT is_active OR passed", name="active_has_passed"),
        # At most one active version: the database refuses a second one.
        Index("ix_classifier_model_one_active", "is_active", unique=True,
              sqlite_where=text("is_active"), postgresql_where=text("is_active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    artifact_path: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    data_hash: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    metrics: Mapped[dict[str, Any]] = mapped_column(db.JSON)
    is_active: Mapped[bool] = mapped_column(default=False)
    passed: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)


class LabelCorrection(db.Model):
    """A category and emotion confirmed by an agent for one text: a labelled example for retraining."""

    __tablename__ = "label_correction"
    __table_args__ = (
        CheckConstraint("length(text) > 0", name="text_not_empty"),
        CheckConstraint(_one_of("category", CATEGORY_CODES), name="category_known"),
        CheckConstraint(_one_of("emotion", EMOTION_CODES), name="emotion_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    emotion: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str | None] = mapped_column(String(120), index=True)  # e.g. "complaint:123"
    corrected_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
