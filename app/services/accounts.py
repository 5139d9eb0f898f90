"""Staff accounts."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import User


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active or not user.check_password(password):
        return None
    return user
