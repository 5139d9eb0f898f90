"""Studio test runs: a draft run in memory on sample data, or its decision table evaluated.

Nothing is stored but one audit event: no instance, no task, no job, no operator call. The
service tasks answer from the outcomes the analyst chose, so no payment can ever be made.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.errors import ValidationFailed
from app.runtime import get_runtime
from app.services import audit
from app.services.studio import get_draft
from workflows.dataflow import start_variables
from workflows.definitions import DefinitionError, SpecBundle, build_bundle, file_kind
from workflows.trial import (TrialInput, decision_ids, default_form_data, element_index, evaluate_decision,
                             all_specs, run_trial, service_task_ids)


OUTCOME_KINDS = ("result", "error", "incident")

# What the panel prefills, so that a test run on defaults goes through: a typical answer of each
# Kesu operator (the fields the seed processes read from it) and a typical value of each start
# variable intake passes (docs/processes.md, "Start data"). Unknown names start as {} / null.
SERVICE_EXAMPLES: dict[str, dict[str, Any]] = {
    "classify": {"category": "product.quality", "emotion": "dissatisfied", "needs_triage": False,
                 "category_confidence": 0.9, "emotion_confidence": 0.8},
    "notify_customer": {"notification_id": 1, "template": "resolution", "channel": "portal"},
    "notify_staff": {"notification_id": 1, "template": "response_sla_missed", "group": "supervisors"},
    "sample_for_qa": {"sampled": False, "bucket": 3},
    "archive_case": {"knowledge_case_id": 1},
    "pay_refund": {"refund_id": 1, "state": "succeeded"},
    "mark_refund_paid": {"refund_id": 1, "state": "paid_manually"},
}
START_EXAMPLES: dict[str, Any] = {
    "complaint_id": "C-1001", "order_ref": "O-1001", "payment_id": 1, "amount_paid": 120.0,
    "already_refunded": 0.0, "currency": "CNY", "chosen_category": "product.quality",
    "text": "收到的杯子有裂纹", "images": 1, "customer_id": "cust-1", "customer_tier": "normal",
    "recent_complaints": 0, "recent_auto_refunds": 0,
}


def setup(draft_id: int) -> dict[str, Any]:
    """Return what the test-run panel offers: processes, service tasks, user tasks, timers, decisions."""
    files = get_draft(draft_id).file_map()
    decisions = _decisions(files)
    if not any(file_kind(p) == "bpmn" for p in files):
        return {"kind": "decision", "decisions": decisions, "problems": []}
    try:
        bundle = build_bundle(files)
    except DefinitionError as error:
        return {"kind": "process", "processes": [], "decisions": decisions,
                "problems": [p.to_dict() for p in error.problems]}
    index = element_index(files)
    operators = service_task_ids(bundle)
    start_keys = {process_id: start_variables([spec, *bundle.subprocess_specs[process_id].values()], bundle.forms)
                  for process_id, spec in bundle.specs.items()}
    return {"kind": "process", "processes": sorted(bundle.specs), "decisions": decisions, "problems": [],
            "start_keys": start_keys,
            "start_examples": {k: START_EXAMPLES[k] for keys in start_keys.values() for k in keys
                               if k in START_EXAMPLES},
            "services": [{"element_id": e, "name": index[e].name if e in index else "", "operator": op,
                          "example": SERVICE_EXAMPLES.get(op, {})}
                         for e, op in sorted(operators.items())],
            "error_codes": sorted(_error_codes(bundle)),
            "user_tasks": _user_tasks(bundle),
            "timers": [{"element_id": e, "name": index[e].name if e in index else ""} for e in sorted(_timers(bundle))]}


def run(draft_id: int, body: Any, *, actor: str, now: datetime) -> dict[str, Any]:
    """Run a draft (or evaluate one of its decision tables) on the analyst's sample data."""
    draft = get_draft(draft_id)
    files = draft.file_map()
    given, decision = _parse(body)
    if decision is not None or not any(file_kind(p) == "bpmn" for p in files):
        trial = evaluate_decision(files, decision or None, given.start_data, environment=get_runtime().environment)
        result = {"kind": "decision", **trial.to_dict()}
        summary = {"decision": trial.decision_id, "matched": [r["row"] for r in trial.rows if r["matched"]],
                   "problems": len(trial.problems)}
    else:
        try:
            bundle = build_bundle(files)
        except DefinitionError as error:
            result = {"kind": "process", "status": "invalid", "steps": [], "waiting": [], "data": {},
                      "problems": [p.to_dict() for p in error.problems], "process_id": given.process_id}
        else:
            runtime = get_runtime()
            run = run_trial(bundle, files, given, now=now, environment=runtime.environment,
                            max_tasks=runtime.max_tasks)
            result = {"kind": "process", **run.to_dict()}
        summary = {"process_id": result["process_id"], "status": result["status"], "steps": len(result["steps"]),
                   "problems": len(result["problems"])}
    audit.record_system_event("studio.test_run", {"draft_id": draft.id, "name": draft.name, **summary},
                              actor=actor, now=now)
    return result


def _parse(body: Any) -> tuple[TrialInput, str | None]:
    """Check the request's shape; every mistake is named by field."""
    if not isinstance(body, dict):
        raise ValidationFailed(_("send the test run as a JSON object"), fields={"body": _("must be a JSON object")})
    errors: dict[str, str] = {}
    start = body.get("start_data", {})
    if not isinstance(start, dict):
        errors["start_data"] = "sample start data must be a JSON object, e.g. {\"amount\": 20}"
    services = body.get("services", {})
    if not isinstance(services, dict):
        errors["services"] = "must map service task ids to outcomes"
        services = {}
    for element_id, outcome in services.items():
        problem = _outcome_problem(outcome)
        if problem:
            errors[f"services.{element_id}"] = problem
    forms = body.get("forms", {})
    if not isinstance(forms, dict) or not all(isinstance(v, dict) for v in forms.values()):
        errors["forms"] = "must map user task ids to form data objects"
    timers = body.get("fire_timers", [])
    if not isinstance(timers, list) or not all(isinstance(t, str) for t in timers):
        errors["fire_timers"] = "must be a list of timer event ids"
    for key in ("process_id", "decision_id"):
        if body.get(key) is not None and not isinstance(body.get(key), str):
            errors[key] = "must be a string"
    if errors:
        raise ValidationFailed(_("the test run input has mistakes; correct the fields listed"), fields=errors)
    return (TrialInput(body.get("process_id") or None, start, services, forms, timers),
            body.get("decision_id") if body.get("kind") == "decision" else None)


def _outcome_problem(outcome: Any) -> str | None:
    if not isinstance(outcome, dict) or len([k for k in OUTCOME_KINDS if k in outcome]) != 1:
        return "give exactly one of {\"result\": {...}}, {\"error\": \"CODE\"} or {\"incident\": true}"
    if "result" in outcome and not isinstance(outcome["result"], dict):
        return "a service result must be a JSON object"
    if "error" in outcome and (not isinstance(outcome["error"], str) or not outcome["error"].strip()):
        return "a BPMN error code must be a non-empty string"
    return None


def _decisions(files: dict[str, str]) -> list[dict[str, Any]]:
    try:
        return [{"decision_id": d} for d in decision_ids(files)]
    except Exception:  # a DMN file that does not parse: the validation list says why
        return []


def _user_tasks(bundle: SpecBundle) -> list[dict[str, Any]]:
    found = []
    for spec in all_specs(bundle):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "manual", False) and getattr(task_spec, "bpmn_id", None):
                props = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
                key = props.get("formKey") or props.get("formJsonSchemaFilename") or ""
                key = key.rsplit("/", 1)[-1].removesuffix(".json").removesuffix("-schema")
                schema = bundle.forms.get(key)
                found.append({"element_id": task_spec.bpmn_id, "name": task_spec.bpmn_name or "",
                              "form_key": key or None, "default": default_form_data(schema) if schema else {}})
    return sorted(found, key=lambda t: t["element_id"])


def _timers(bundle: SpecBundle) -> set[str]:
    found = set()
    for spec in all_specs(bundle):
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            for candidate in getattr(definition, "event_definitions", [definition]):
                if isinstance(candidate, TimerEventDefinition) and getattr(task_spec, "bpmn_id", None):
                    found.add(task_spec.bpmn_id)
    return found


def _error_codes(bundle: SpecBundle) -> set[str]:
    codes = set()
    for spec in all_specs(bundle):
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, ErrorEventDefinition) and definition.code:
                codes.add(str(definition.code))
    return codes
