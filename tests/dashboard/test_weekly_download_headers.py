"""The weekly review downloads name their type and charset once (Werkzeug adds a charset to a bare mimetype)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.conftest import sign_in


@pytest.mark.parametrize(("fmt", "kind"), [("md", "text/markdown"), ("csv", "text/csv")])
def test_download_content_type_names_the_charset_once(client: Any, make_staff: Any, fmt: str, kind: str) -> None:
    make_staff("boss", ["supervisor"])
    sign_in(client, "boss")
    answer = client.get(f"/dashboard/weekly.{fmt}?week=2026-W46")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == f"{kind}; charset=utf-8"
