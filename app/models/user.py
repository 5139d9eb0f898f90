"""Staff accounts (agents, experts, QA, supervisors, finance, analysts, auditors, admins)."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.database import UTCDateTime
from app.extensions import db

ROLES = ("agent", "expert", "qa", "supervisor", "finance", "analyst", "auditor", "admin")


class User(UserMixin, db.Model):
    """A member of staff who signs in with a password."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list] = mapped_column(db.JSON, default=list)
    groups: Mapped[list] = mapped_column(db.JSON, default=list)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_active_account

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles
