"""Customer personal data kept outside the hashed event log, so that it can be erased."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class PersonalData(db.Model):
    """One personal value an event referred to; the event's payload holds only ``token``."""

    __tablename__ = "personal_data"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str | None] = mapped_column(String(80), index=True)
    instance_id: Mapped[int | None] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(80))
    value: Mapped[str | None] = mapped_column(Text)  # JSON; None once erased
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
