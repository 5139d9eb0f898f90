"""Studio fixtures: analysts, a signed-in analyst client, drafts made of given files."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.studio import add_analysts, sign_in


@pytest.fixture
def analysts(db_session, clock) -> None:  # type: ignore[no-untyped-def]
    add_analysts(clock.now())


@pytest.fixture
def analyst_client(app, client, analysts) -> Iterator:  # type: ignore[no-untyped-def]
    sign_in(client, "li")
    app.config["WTF_CSRF_ENABLED"] = False
    yield client
    app.config["WTF_CSRF_ENABLED"] = True

