"""Fixtures for the agent workspace: the seed processes, staff, and signing in."""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import User
from tests.support.complaints import ProcessDriver

PASSWORD = "correct horse"


@pytest.fixture
def driver(app: Flask, db_session: Any, clock: Any) -> Iterator[ProcessDriver]:
    """The seed processes deployed, with a deterministic classifier."""
    processes = ProcessDriver(app, clock)
    yield processes
    processes.restore()


@pytest.fixture
def make_staff(db_session: Any, clock: Any) -> Callable[..., User]:
    """Create a staff member with roles and groups."""

    def make(username: str, roles: list[str] | None = None, groups: list[str] | None = None) -> User:
        user = User(username=username, display_name=username.title(), roles=roles or ["agent"],
                    groups=groups or [], created_at=clock.now())
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user
    return make


def sign_in(client: FlaskClient, username: str) -> None:
    """Sign in through the login form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})


def csrf(page: str) -> str:
    """Return the CSRF token of a rendered page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
