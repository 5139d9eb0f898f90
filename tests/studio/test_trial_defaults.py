"""A test run of the seed complaint process on what the panel prefills goes through, not into a KeyError."""
from __future__ import annotations

from pathlib import Path

from app.extensions import db
from app.services import definitions, studio_trial
from tests.support.studio import make_draft

ROOT = Path(__file__).resolve().parents[2]


def _panel_body(setup: dict, process_id: str) -> dict:
    """The body trial.js sends when the analyst changes nothing (see collect() there)."""
    examples = setup["start_examples"]
    return {"kind": "process", "process_id": process_id,
            "start_data": {k: examples.get(k) for k in setup["start_keys"][process_id]},
            "services": {s["element_id"]: {"result": s["example"]} for s in setup["services"]},
            "forms": {t["element_id"]: t["default"] for t in setup["user_tasks"]}, "fire_timers": []}


def test_the_seed_process_runs_to_its_end_on_the_prefilled_defaults(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(definitions.read_seed_files(str(ROOT / "bpmn"), str(ROOT / "rules")), clock.now())
    db.session.commit()
    setup = studio_trial.setup(draft.id)
    classify = next(s for s in setup["services"] if s["operator"] == "classify")
    assert classify["example"]["category"] and "needs_triage" in classify["example"]
    body = _panel_body(setup, "complaint_handling")
    assert body["start_data"]["amount_paid"] == 120.0 and None not in body["start_data"].values()
    response = analyst_client.post(f"/studio/drafts/{draft.id}/test-run", json=body,
                                   headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["problems"] == [] and result["status"] == "completed", (result["status"], result["problems"])
    ran = [s["element_id"] for s in result["steps"]]
    assert {"apply_classification", "handle", "notify_resolution", "archive"} <= set(ran)

