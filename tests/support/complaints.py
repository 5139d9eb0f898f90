"""Run the seed complaint and refund processes through the real services on a test database.

`ProcessDriver` deploys bpmn/ and rules/ as they are in the repository, with a
deterministic stand-in for `classify` (the classifier has its own tests) and, where the
payments package is not installed, a `pay_refund` that follows its contract exactly:
asynchronous, returns {"refund_id", "state"}, raises ServiceError(code="refund_rejected")
on a definite refusal; the confirmation is delivered with the real
`processes.deliver_message("refund_result", {"refund_id": id}, payload)`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.clock import FrozenClock
from app.extensions import db
from app.models import HumanTask, ProcessEvent, ProcessInstance
from app.services import definitions, processes
from app.worker import run_one_job, schedule_tick
from workflows.services import ServiceCall, ServiceError

ROOT = Path(__file__).resolve().parents[2]

START_DATA: dict[str, Any] = {
    "complaint_id": "C-1001", "order_ref": "O-1001", "payment_id": 1, "amount_paid": 120.0,
    "already_refunded": 0.0, "currency": "CNY", "chosen_category": "product.quality",
    "text": "收到的杯子有裂纹", "images": 0, "customer_id": "cust-1", "customer_tier": "normal",
    "recent_complaints": 0, "recent_auto_refunds": 0,
}


@dataclass
class FakeClassifier:
    """`classify` answering what the test sets (default: the customer's category, confident)."""

    emotion: str = "calm"
    needs_triage: bool = False
    category: str | None = None

    def __call__(self, call: ServiceCall) -> dict[str, Any]:
        category = self.category or call.params.get("chosen_category") or "other"
        return {"category": category, "category_confidence": 0.4 if self.needs_triage else 0.93,
                "top3": [{"code": category, "confidence": 0.93}], "emotion": self.emotion,
                "emotion_confidence": 0.9, "needs_triage": self.needs_triage,
                "triage_reason": "low confidence" if self.needs_triage else None,
                "customer_category": call.params.get("chosen_category"), "disagrees_with_customer": False,
                "model_version": 0}


@dataclass
class FakePayments:
    """`pay_refund` by its contract; ``answer`` is the state it returns, or "refuse" to raise."""

    answer: str = "submitted"
    calls: list[ServiceCall] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(501))

    marked_paid: list[ServiceCall] = field(default_factory=list)

    def __call__(self, call: ServiceCall) -> dict[str, Any]:
        self.calls.append(call)
        if self.answer == "refuse":
            raise ServiceError("the gateway refused the refund: trade closed", code="refund_rejected")
        return {"refund_id": next(self._ids), "state": self.answer}

    def mark_paid(self, call: ServiceCall) -> dict[str, Any]:
        """`mark_refund_paid` by its contract (the refunds made here have no rows to mark)."""
        self.marked_paid.append(call)
        return {"refund_id": call.params["failed_refund_id"], "state": "paid_manually"}


class ProcessDriver:
    """Start complaints, work their tasks as people would, move time and run the worker."""

    def __init__(self, app: Flask, clock: FrozenClock) -> None:
        self.app, self.clock = app, clock
        self.classifier, self.payments = FakeClassifier(), FakePayments()
        operators = app.extensions["kesu.runtime"].operators
        self._saved = {name: operators._operators.get(name) for name in ("classify", "pay_refund", "mark_refund_paid")}
        operators.register("classify", self.classifier)
        operators.register("pay_refund", self.payments, asynchronous=True, retries=0)
        operators.register("mark_refund_paid", self.payments.mark_paid)
        files = definitions.read_seed_files(str(ROOT / "bpmn"), str(ROOT / "rules"))
        definitions.deploy(files, actor="tester", now=clock.now())

    def restore(self) -> None:
        operators = self.app.extensions["kesu.runtime"].operators
        for name, operator in self._saved.items():
            if operator is None:
                operators._operators.pop(name, None)
            else:
                operators._operators[name] = operator

    def start(self, **changes: Any) -> int:
        data = {**START_DATA, **changes}
        instance = processes.start_instance("complaint_handling", data, actor="intake", now=self.clock.now(),
                                            business_key=data["complaint_id"])
        db.session.commit()
        return instance.id

    def instance(self, instance_id: int) -> ProcessInstance:
        db.session.expire_all()
        return processes.get_instance(instance_id)

    def open_tasks(self, instance_id: int) -> list[HumanTask]:
        db.session.expire_all()
        return list(db.session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open").order_by(HumanTask.id)).scalars())

    def task(self, instance_id: int, name: str) -> HumanTask:
        tasks = [t for t in self.open_tasks(instance_id) if t.name == name]
        assert tasks, f"no open task {name}; open: {[t.name for t in self.open_tasks(instance_id)]}"
        return tasks[0]

    def complete(self, instance_id: int, name: str, data: dict[str, Any], *, actor: str) -> None:
        processes.complete_task(self.task(instance_id, name).task_id, data, actor=actor, now=self.clock.now())
        db.session.commit()

    def run_jobs(self) -> int:
        """Queue due timers and run every runnable job; return how many ran."""
        ran = 0
        schedule_tick(self.app)
        while run_one_job(self.app, "test-worker"):
            ran += 1
            schedule_tick(self.app)
        return ran

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        self.run_jobs()

    def confirm_refund(self, refund_id: int, state: str = "succeeded") -> None:
        processes.deliver_message("refund_result", {"refund_id": refund_id},
                                  {"refund_id": refund_id, "state": state, "provider_refund_id": f"P-{refund_id}",
                                   "reason": None if state == "succeeded" else "card closed"},
                                  actor="gateway", now=self.clock.now())
        db.session.commit()

    def data(self, instance_id: int) -> dict[str, Any]:
        execution = processes.load_execution(self.instance(instance_id), now=self.clock.now())
        return execution.data

    def timeline(self, instance_id: int, *types: str) -> list[str]:
        """Return "event_type:task_name" in order, keeping only the given event types (all if none)."""
        db.session.expire_all()
        rows = db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                  .order_by(ProcessEvent.seq)).scalars()
        return [f"{r.event_type}:{r.task_name}" if r.task_name else r.event_type
                for r in rows if not types or r.event_type in types]

    def steps(self, instance_id: int) -> list[str]:
        """The path taken: completed tasks, fired timers, messages, submissions, in order."""
        return [e for e in self.timeline(instance_id, "task.completed", "timer.fired", "message.delivered",
                                         "task.submitted", "service.failed", "instance.completed")
                if not e.split(":")[-1].startswith(("gw_", "f_")) and "Start" not in e and "End" not in e
                and not e.endswith(".EndJoin")]
