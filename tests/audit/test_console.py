"""/audit: auditors only, search, history with diffs and service calls, verify, replay, export, masking."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from app.extensions import db
from app.models import User
from tests.support.complaints import ProcessDriver
from tests.support.language import EN


def _user(clock, name: str, roles: list[str]) -> None:  # type: ignore[no-untyped-def]
    user = User(username=name, display_name=name, roles=roles, groups=[], created_at=clock.now())
    user.set_password("correct horse")
    db.session.add(user)
    db.session.commit()


def _sign_in(client, name: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": name, "password": "correct horse", "csrf_token": token})


@pytest.fixture
def complaint(driver: ProcessDriver, client, clock) -> int:  # type: ignore[no-untyped-def]
    instance_id = driver.start(phone="13800138000")
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好"}, actor="xiaowang")
    _user(clock, "shenji", ["auditor"])
    _user(clock, "xiaowang", ["agent"])
    return instance_id


def test_only_auditors_see_the_console(client, complaint) -> None:
    assert client.get("/audit").status_code == 302
    _sign_in(client, "xiaowang")
    response = client.get("/audit")
    assert response.status_code == 403
    assert "this page is for auditor staff; ask an administrator for access" in response.get_data(as_text=True)


def test_search_by_key_order_customer_status_version_and_dates(client, complaint) -> None:
    _sign_in(client, "shenji")
    link = f'/audit/instances/{complaint}"'
    for query in ("key=C-1001", "order=O-1001", "customer=cust-1", "status=waiting", "version=1",
                  "date_from=2020-01-01&date_to=2099-12-31"):
        assert link in client.get(f"/audit?{query}").get_data(as_text=True), query
    for query in ("key=C-9", "order=O-9", "customer=cust-9", "status=completed", "version=7",
                  "date_to=2000-01-01"):
        assert link not in client.get(f"/audit?{query}").get_data(as_text=True), query


@pytest.mark.parametrize(("query", "message"), [
    ("status=lost", "unknown status &#39;lost&#39;"), ("version=v2", "the process version is a whole number"),
    ("date_from=31.01.2026", "&#39;31.01.2026&#39; is not a date")])
def test_search_refuses_meaningless_filters(client, complaint, query: str, message: str) -> None:
    _sign_in(client, "shenji")
    response = client.get(f"/audit?{query}", headers=EN)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_history_shows_who_what_diffs_and_service_calls_and_masks_contacts(client, complaint) -> None:
    _sign_in(client, "shenji")
    page = client.get(f"/audit/instances/{complaint}", headers=EN).get_data(as_text=True)
    assert "task.submitted" in page and "xiaowang" in page
    assert '<li class="added">+ category = &#34;product.quality&#34;</li>' in page
    assert "operator <code>classify</code>" in page and "request <code>" in page and "result <code>" in page
    assert "13800138000" not in page and "***" in page


def test_verify_and_replay_buttons(client, complaint) -> None:
    _sign_in(client, "shenji")
    verified = client.get(f"/audit/instances/{complaint}?check=verify", headers=EN).get_data(as_text=True)
    assert "<strong>Hash chain:</strong> intact: " in verified
    replayed = client.get(f"/audit/instances/{complaint}?check=replay", headers=EN).get_data(as_text=True)
    assert "<strong>Replay:</strong> identical: " in replayed
    chinese = client.get(f"/audit/instances/{complaint}?check=verify").get_data(as_text=True)
    assert re.search(r"<strong>哈希链:</strong> 完好：已校验 1 条链中的 \d+ 个事件", chinese), "Chinese by default"
    assert client.get(f"/audit/instances/{complaint}?check=nothing").status_code == 422


def test_exports_carry_history_and_verification(client, complaint) -> None:
    _sign_in(client, "shenji")
    data = json.loads(client.get(f"/audit/instances/{complaint}/export.json").get_data(as_text=True))
    [record] = data["instances"]
    assert record["verification"].startswith("intact: ") and record["events"][0]["event_type"] == "instance.started"
    assert record["events"][0]["payload"]["data"]["phone"] == "***"
    exported = client.get("/audit/export.csv?key=C-1001")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not twice
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) == len(record["events"]) and rows[0]["verification"].startswith("intact: ")
    assert client.get(f"/audit/instances/{complaint}/export.xml").status_code == 422



def test_a_search_with_more_matches_than_a_page_says_so_and_a_too_big_export_is_refused(
        client, complaint, driver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.services import audit_console
    for n in (2, 3):
        driver.start(complaint_id=f"C-100{n}")
    monkeypatch.setattr(audit_console, "PAGE_SIZE", 2)
    _sign_in(client, "shenji")
    page = client.get("/audit?status=waiting", headers=EN).get_data(as_text=True)
    assert 'id="search-truncated"' in page and "More than 2 instances match: the newest 2 are listed" in page
    assert page.count('href="/audit/instances/') == 2
    assert 'id="search-truncated"' not in client.get("/audit?key=C-1001", headers=EN).get_data(as_text=True)
    monkeypatch.setattr(audit_console, "EXPORT_LIMIT", 2)
    refused = client.get("/audit/export.json?status=waiting", headers=EN)
    assert refused.status_code == 422 and "More than 2 instances match; narrow the search" in refused.get_data(as_text=True)
    assert client.get("/audit/export.json?key=C-1001", headers=EN).status_code == 200
