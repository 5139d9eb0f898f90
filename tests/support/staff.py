"""Staff for web tests: a password everyone shares, a maker, and signing in through the form."""
from __future__ import annotations

import re
from datetime import datetime

from flask.testing import FlaskClient

from app.extensions import db
from app.models import User

PASSWORD = "correct horse"


def add_staff(username: str, roles: list[str] | None, groups: list[str] | None, *, now: datetime) -> User:
    """Create and commit a staff member (an agent with no groups unless told otherwise)."""
    user = User(username=username, display_name=username.title(), roles=roles or ["agent"],
                groups=groups or [], created_at=now)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client: FlaskClient, username: str) -> None:
    """Sign in through the login form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
