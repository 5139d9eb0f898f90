"""The side panel's timer field: selecting a timer event and typing a duration in a real browser.

panel.js built the field without its hint element and then wrote into it, so selecting any timer
threw (TypeError) and the "not an ISO 8601 duration" hint never appeared."""
from __future__ import annotations

from pathlib import Path

from app.services.uow import run_command
from tests.support.studio import add_analysts, browser_sign_in, make_draft, needs_vendor

SEED = Path(__file__).resolve().parents[2] / "bpmn" / "complaint_handling.bpmn"  # drawn (has diagram interchange)

pytestmark = needs_vendor


def test_timer_field_hints_a_duration_that_is_not_iso(committed_app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        draft_id = run_command(lambda: (add_analysts(now), make_draft({"bpmn/complaint_handling.bpmn": SEED.read_text(encoding="utf-8")}, now))[1].id)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, live_server, "li")
    page.goto(f"{live_server}/studio/drafts/{draft_id}/edit?path=bpmn/complaint_handling.bpmn&lang=en")
    page.wait_for_selector("#studio-editor[data-ready]", state="attached")
    assert page.get_attribute("#studio-editor", "data-ready") == "true", page.inner_text("#save-status")
    page.click(".djs-element[data-element-id=info_timeout]", force=True)
    duration = page.wait_for_selector("#panel input[name=timeDuration]")
    assert duration.input_value() == '"PT72H"'
    duration.fill('"PT2 hours"')
    assert "ISO 8601" in page.inner_text("#panel .hint")
    duration.fill('"PT2H"')
    assert page.inner_text("#panel .hint") == ""
    assert errors == [], errors
