"""Helpers for the agent-workspace tests (the `driver` and `make_staff` fixtures live in tests/conftest.py)."""
from __future__ import annotations

import re

from tests.support.staff import PASSWORD, sign_in  # noqa: F401  (imported by the tests of this folder)


def csrf(page: str) -> str:
    """Return the CSRF token of a rendered page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
