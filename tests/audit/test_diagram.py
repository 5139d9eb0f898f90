"""The diagram at step N: the pinned BPMN file, steps with path, tokens and data, auditor only."""
from __future__ import annotations


import pytest

from app.services import audit_diagram
from tests.audit.test_console import _sign_in, _user
from tests.support.complaints import ProcessDriver


@pytest.fixture
def complaint(driver: ProcessDriver, clock) -> int:  # type: ignore[no-untyped-def]
    instance_id = driver.start(phone="13800138000")
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好"}, actor="xiaowang")
    _user(clock, "shenji", ["auditor"])
    _user(clock, "xiaowang", ["agent"])
    return instance_id


def _first(steps: list[dict], element: str, state: str) -> int:  # type: ignore[type-arg]
    return next(i for i, s in enumerate(steps) if s["element"] == element and s["event_type"] == f"task.{state}")


def test_steps_follow_the_path_tokens_and_data(complaint: int) -> None:
    steps = audit_diagram.steps(complaint, unmasked=True)
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    ready = _first(steps, "handle", "ready")
    assert "handle" in steps[ready]["current"] and "handle" not in steps[ready]["completed"]
    assert "classify_complaint" in steps[ready]["completed"] and steps[ready]["data"].get("reply") != "您好"
    done = _first(steps, "handle", "completed")
    assert "handle" not in steps[done]["current"] and "handle" in steps[done]["completed"]
    assert steps[done]["data"]["reply"] == "您好" and steps[0]["data"]["phone"] == "13800138000"
    assert "confirm_resolution" in steps[-1]["current"]


def test_steps_mask_contacts_and_the_file_is_the_process_one(complaint: int) -> None:
    assert audit_diagram.steps(complaint)[-1]["data"]["phone"] == "***"
    path, xml = audit_diagram.diagram_xml(complaint)
    assert path.endswith("complaint_handling.bpmn") and 'id="complaint_handling"' in xml


def test_diagram_page_file_and_steps_for_auditors_only(client, complaint: int) -> None:
    _sign_in(client, "xiaowang")
    assert client.get(f"/audit/instances/{complaint}/steps.json").status_code == 403
    _sign_in(client, "shenji")
    page = client.get(f"/audit/instances/{complaint}/diagram")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    body = page.get_data(as_text=True)
    assert "bpmn-navigated-viewer.production.min.js" in body and "<script>" not in body
    assert client.get(f"/audit/instances/{complaint}/diagram.bpmn").get_data(as_text=True).startswith("<?xml")
    steps = client.get(f"/audit/instances/{complaint}/steps.json").get_json()["steps"]
    assert steps[0]["event_type"] == "instance.started" and steps[-1]["data"]["phone"] == "***"
    assert client.get("/audit/instances/999999/steps.json").status_code == 404
