"""Studio test runs: a draft runs in memory on sample data with chosen service outcomes; nothing is stored."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Job, ProcessEvent, ProcessInstance
from app.services import studio_trial
from tests.support.studio import DATA, engine_files, make_draft, sign_in
from workflows.forms import form_errors
from workflows.trial import default_form_data

ROOT = DATA.parents[2]
PAY = {"bpmn/pay.bpmn": (DATA / "trial_errors.bpmn").read_text(encoding="utf-8")}


def _run(client, draft_id: int, body: dict):  # type: ignore[no-untyped-def]
    return client.post(f"/studio/drafts/{draft_id}/test-run", json=body, headers={"Accept": "application/json"})


def _path(result: dict) -> list[tuple[str, str]]:
    return [(s["element_id"], s["state"]) for s in result["steps"]]


def test_a_run_follows_the_chosen_outcome_and_stores_nothing(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(engine_files(), clock.now())
    db.session.commit()
    response = _run(analyst_client, draft.id, {
        "start_data": {"text": "坏了", "emotion": "angry", "amount": 20, "order_id": "O-1"},
        "services": {"refund": {"result": {"refund_id": "R-9", "status": "paid"}}}})
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["status"] == "completed" and result["problems"] == []
    assert _path(result) == [("start", "completed"), ("prepare", "completed"), ("decide_priority", "completed"),
                             ("gw_auto", "completed"), ("refund", "completed"), ("end_auto", "completed")]
    refund = result["steps"][4]
    assert refund["diff"] == {"set": {"refund": {"refund_id": "R-9", "status": "paid"}}}
    assert refund["flow_id"] == "f_auto" and refund["type"] == "serviceTask"
    assert refund["detail"][0]["type"] == "service.called"
    assert result["steps"][2]["detail"][0]["matched"][0]["rule_id"] == "r_angry"
    assert result["steps"][1]["data"]["angry"] is True  # the data after the script
    assert db.session.execute(select(func.count()).select_from(ProcessInstance)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 0
    events = db.session.execute(select(ProcessEvent.event_type, ProcessEvent.payload)
                                .where(ProcessEvent.event_type == "studio.test_run")).all()
    payload = json.loads(events[0].payload) if isinstance(events[0].payload, str) else events[0].payload
    assert len(events) == 1 and payload["status"] == "completed" and payload["steps"] == 6


def test_user_tasks_take_a_default_that_satisfies_the_form_and_timers_fire(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(engine_files(), clock.now())
    start = {"text": "x", "emotion": "calm", "amount": 600, "order_id": "O-2"}
    result = _run(analyst_client, draft.id, {"start_data": start}).get_json()
    assert result["status"] == "completed", result
    handle = next(s for s in result["steps"] if s["element_id"] == "handle")
    schema_default = next(t for t in studio_trial.setup(draft.id)["user_tasks"] if t["element_id"] == "handle")["default"]
    assert handle["diff"]["set"].items() >= schema_default.items() and schema_default
    fired = _run(analyst_client, draft.id, {"start_data": start, "fire_timers": ["sla"]}).get_json()
    assert _path(fired)[-4:] == [("sla", "completed"), ("handle", "cancelled"), ("escalate", "completed"),
                                 ("end_escalated", "completed")]


def test_given_form_data_is_checked_against_the_form(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(engine_files(), clock.now())
    result = _run(analyst_client, draft.id, {"start_data": {"text": "x", "emotion": "calm", "amount": 600, "order_id": "O"},
                                             "forms": {"handle": {"outcome": "no such outcome"}}}).get_json()
    assert result["status"] == "waiting"
    assert result["problems"][0]["element_id"] == "handle"
    assert "the form has errors" in result["problems"][0]["message"] and "reply: this field is required" in result["problems"][0]["message"]
    assert result["steps"][-1]["element_id"] == "handle" and result["steps"][-1]["state"] == "ready"


@pytest.mark.parametrize("outcome, path, status", [
    ({"result": {"paid": 10}}, ["start", "pay", "gw_paid", "end_full"], "completed"),
    ({"result": {"paid": 4}}, ["start", "pay", "gw_paid", "end_partial"], "completed"),
    ({"error": "declined"}, ["start", "declined", "pay", "end_declined"], "completed"),
    ({"incident": True}, ["start", "declined", "pay"], "error"),
])
def test_each_service_outcome_takes_its_path(analyst_client, clock, outcome, path, status) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(PAY, clock.now())
    result = _run(analyst_client, draft.id, {"start_data": {"amount": 10}, "services": {"pay": outcome}}).get_json()
    assert (result["status"], [s["element_id"] for s in result["steps"]]) == (status, path)
    if status == "error":
        assert result["problems"][0]["element_id"] == "pay"
        assert "the analyst chose an incident" in result["problems"][0]["message"]


def test_an_expression_the_sandbox_refuses_is_a_problem_not_a_500(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    text = PAY["bpmn/pay.bpmn"].replace('payment["paid"] == amount', "str(amount).format(1) == \"10\"")
    draft = make_draft({"bpmn/pay.bpmn": text}, clock.now())
    response = _run(analyst_client, draft.id, {"start_data": {"amount": 10}, "services": {"pay": {"result": {}}}})
    assert response.status_code == 200
    result = response.get_json()
    assert result["status"] == "error"
    assert any(p["element_id"] == "gw_paid" and "format" in p["message"] for p in result["problems"]), result["problems"]


def test_a_draft_that_does_not_parse_lists_its_problems(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    broken = PAY["bpmn/pay.bpmn"].replace('targetRef="end_full"', 'targetRef="nowhere"')
    draft = make_draft({"bpmn/pay.bpmn": broken}, clock.now())
    response = _run(analyst_client, draft.id, {"start_data": {}})
    assert response.status_code == 200
    result = response.get_json()
    assert result["status"] == "invalid" and result["problems"] and result["steps"] == []


@pytest.mark.parametrize("body, field", [
    ({"start_data": [1]}, "start_data"),
    ({"services": {"pay": {"result": {}, "error": "x"}}}, "services.pay"),
    ({"services": {"pay": {"error": ""}}}, "services.pay"),
    ({"forms": {"handle": "yes"}}, "forms"),
    ({"fire_timers": "sla"}, "fire_timers"),
])
def test_bad_input_is_refused_by_field(analyst_client, clock, body, field) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(PAY, clock.now())
    response = _run(analyst_client, draft.id, body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert db.session.execute(select(func.count()).select_from(ProcessEvent)
                              .where(ProcessEvent.event_type == "studio.test_run")).scalar() == 0


def test_a_decision_table_alone_is_evaluated_row_by_row(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft({"rules/priority.dmn": engine_files()["rules/priority.dmn"]}, clock.now())
    assert studio_trial.setup(draft.id)["kind"] == "decision"
    result = _run(analyst_client, draft.id, {"start_data": {"angry": False, "amount": 700}}).get_json()
    assert result["kind"] == "decision"
    assert [(r["rule_id"], r["matched"]) for r in result["rows"]] == [("r_angry", False), ("r_big", True), ("r_rest", True)]
    assert result["result"]["priority"] == "medium" and result["hit_policy"] == "FIRST"
    missing = _run(analyst_client, draft.id, {"start_data": {}}).get_json()
    assert missing["problems"] and "variable 'angry' is not set" in missing["problems"][0]["message"]


def test_setup_lists_what_a_run_can_be_given(analysts, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft({**engine_files(), **PAY}, clock.now())
    setup = studio_trial.setup(draft.id)
    assert setup["processes"] == ["complaint_engine", "pay_refund"]
    assert [s["element_id"] for s in setup["services"]] == ["pay", "refund"]
    assert setup["error_codes"] == ["declined"] and [t["element_id"] for t in setup["timers"]] == ["sla"]
    assert {t["element_id"] for t in setup["user_tasks"]} == {"handle", "escalate"}
    assert setup["start_keys"] == {"complaint_engine": ["amount", "emotion", "order_id", "text"],
                                   "pay_refund": ["amount"]}


def test_only_analysts_run_drafts(app, client, analysts, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(PAY, clock.now())
    sign_in(client, "zhuguan")
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        assert _run(client, draft.id, {}).status_code == 403
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_a_bad_timer_value_and_an_unknown_process_are_problems(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    files = engine_files()
    files["bpmn/complaint_engine.bpmn"] = files["bpmn/complaint_engine.bpmn"].replace(">sla</bpmn:timeDuration>",
                                                                                      ">bad_sla</bpmn:timeDuration>")
    draft = make_draft(files, clock.now())
    start = {"text": "x", "emotion": "calm", "amount": 600, "order_id": "O", "bad_sla": "two days"}
    response = _run(analyst_client, draft.id, {"start_data": start})
    assert response.status_code == 200
    assert response.get_json()["status"] == "error"
    assert "Invalid duration" in response.get_json()["problems"][0]["message"]
    unknown = _run(analyst_client, draft.id, {"process_id": "nope"}).get_json()
    assert unknown["status"] == "invalid"
    assert unknown["problems"][0]["message"] == "process 'nope' is not in the draft; pick one of: complaint_engine"


@pytest.mark.parametrize("form", sorted((ROOT / "bpmn" / "forms").glob("*.json")), ids=lambda p: p.stem)
def test_the_default_form_data_satisfies_every_seed_form(form) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(form.read_text(encoding="utf-8"))
    assert form_errors(schema, default_form_data(schema)) == {}


def test_the_seed_complaint_process_runs_to_its_end_on_defaults(analysts, clock) -> None:  # type: ignore[no-untyped-def]
    seed = [p for folder in ("bpmn", "rules") for p in sorted((ROOT / folder).rglob("*"))
            if p.suffix in (".bpmn", ".dmn", ".json")]
    files = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in seed}
    draft = make_draft(files, clock.now())
    start = {"complaint_id": 1, "order_ref": "O-1", "payment_id": 1, "amount_paid": 36.5, "already_refunded": 0,
             "currency": "CNY", "chosen_category": "product.quality", "text": "收到的苹果全是烂的", "images": 1,
             "customer_id": 7, "customer_tier": "normal", "recent_complaints": 0, "recent_auto_refunds": 0}
    answer = {"category": "product.quality", "emotion": "angry", "confidence": 0.95, "needs_triage": False,
              "sampled": False, "notification_id": 1, "refund_id": 1, "status": "succeeded"}
    services = {e["element_id"]: {"result": answer} for e in studio_trial.setup(draft.id)["services"]}
    result = studio_trial.run(draft.id, {"process_id": "complaint_handling", "start_data": start, "services": services},
                              actor="li", now=clock.now())
    assert (result["status"], result["problems"]) == ("completed", [])
    assert result["steps"][-1]["type"] == "endEvent"
    assert db.session.execute(select(func.count()).select_from(ProcessInstance)).scalar() == 0
