"""Customer API fixtures: the customer fixtures, plus app tokens and JSON helpers."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from app.extensions import db
from app.models.customer import Customer
from app.services import customers
from tests.customer.conftest import make_customer, shop, upload_dir  # noqa: F401  (shared fixtures)


@pytest.fixture
def token_of(db_session: Any, clock: Any) -> Callable[[Customer], dict[str, str]]:
    """Return the Authorization header of a fresh app token for a customer."""
    def token(customer: Customer) -> dict[str, str]:
        value = customers.issue_token(customer.id, name="test phone", now=clock.now())
        db.session.commit()
        return {"Authorization": f"Bearer {value}"}
    return token


@pytest.fixture
def staff_header(db_session: Any, clock: Any) -> dict[str, str]:
    """The Authorization header of an admin's staff API token."""
    from app.models import User
    from app.services import api_tokens
    user = User(username="guanli-api", display_name="管理", roles=["admin"], groups=[], created_at=clock.now())
    user.set_password("pw-admin-123")
    db.session.add(user)
    db.session.flush()
    token, _ = api_tokens.issue_token(user.username, name="test", now=clock.now())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
