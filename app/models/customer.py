"""Customers of the shop: accounts that sign in by password or one-time link, and their API tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.database import UTCDateTime
from app.extensions import db

CUSTOMER_TIERS = ("normal", "vip")


class Customer(db.Model):
    """A shop customer; never a staff ``User`` (the two sign in under different session keys)."""

    __tablename__ = "customer"
    __table_args__ = (CheckConstraint("tier IN ('normal', 'vip')", name="tier_known"),
                      CheckConstraint("language IS NULL OR language IN ('zh_CN', 'en')", name="language_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    tier: Mapped[str] = mapped_column(String(20), default="normal")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # their notifications' language, a code of app.i18n.LANGUAGES (a new one: migrate the check); None: the default
    language: Mapped[str | None] = mapped_column(String(10))

    @property
    def process_id(self) -> str:
        """Return the id processes carry as ``customer_id`` (a string, as in the outbox)."""
        return str(self.id)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


class UsedLoginLink(db.Model):
    """A one-time sign-in link already used: its token id may never sign anyone in again."""

    __tablename__ = "used_login_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerToken(db.Model):
    """A bearer token of the mobile app for one customer; only its SHA-256 is stored."""

    __tablename__ = "customer_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
