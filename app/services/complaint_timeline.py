"""The customer's view of a complaint: a timeline in plain words, status, SLA promise, refunds, compensation.

Built from the instance's event log (what the engine recorded), the task projection (who took
it) and payments' refunds; each event kind has a small describer in a registry.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessEvent, ProcessInstance, Refund, User
from app.models.complaint import Complaint

ROLE_WORDS = {"handle": "客服", "expert_review": "专家", "supervisor_review": "主管"}
OUTCOME_TEXT = {
    "reply": "{who}已回复您：{reply}",
    "refund": "{who}已为您申请退款 ¥{amount}",
    "compensate": "{who}已为您发放补偿",
    "reship": "{who}已为您安排补发",
    "more_info": "{who}需要您补充信息",
    "escalate": "{who}已升级处理",
}
READY_TEXT = {
    "handle": "客服团队已收到您的问题，正在安排处理",
    "expert_review": "专家已接手处理",
    "supervisor_review": "主管已升级处理",
    "request_info": "请补充信息，以便我们继续处理（72 小时内）",
    "confirm_resolution": "问题已处理，请在 72 小时内确认是否解决",
}
REFUND_STATES = {"requested": "处理中", "approved": "已批准", "submitted": "退款中", "succeeded": "已到账",
                 "failed": "失败，财务处理中", "unknown": "确认中", "reconciled": "已到账"}


@dataclass(frozen=True)
class Entry:
    at: datetime
    text: str


@dataclass
class Progress:
    """Everything the progress page and the API show about one complaint."""

    status: str                      # processing | resolved | closed
    timeline: list[Entry]
    reply_by: datetime | None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    compensation: dict[str, Any] | None = None


Describer = Callable[[ProcessEvent, dict[str, Any], Callable[[str | None], str]], str | None]


def _started(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    return "您的投诉已提交，我们已收到"


def _completed(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    changed = payload.get("data", {}).get("set", {})
    if event.task_name == "decide_auto_resolution" and changed.get("auto_resolution") in ("refund", "coupon"):
        return f"系统已自动处理：{changed.get('auto_resolution_reason', '')}"
    if event.task_name in ROLE_WORDS and changed.get("outcome") in OUTCOME_TEXT:
        who = f"{ROLE_WORDS[event.task_name]}{name(event.actor)}"
        return OUTCOME_TEXT[changed["outcome"]].format(who=who, reply=changed.get("reply", ""),
                                                       amount=_money(changed.get("refund_amount")))
    if event.task_name == "confirm_resolution":
        return ("您已确认问题已解决" + (f"（评分 {changed['csat']}）" if changed.get("csat") else "")
                if changed.get("satisfied") else "您反馈问题仍未解决，我们已重新处理")
    return None


def _ready(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    return READY_TEXT.get(event.task_name or "")


def _timer(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    return "72 小时内未收到您的确认，投诉已按已解决关闭" if event.task_name == "confirm_timeout" else None


DESCRIBERS: dict[str, Describer] = {
    "instance.started": _started, "task.completed": _completed, "task.ready": _ready, "timer.fired": _timer,
    "instance.completed": lambda event, payload, name: "投诉已结案",
}


def progress(complaint: Complaint) -> Progress:
    """Return the complaint's progress as its customer sees it."""
    events = _events(complaint.instance_id)
    name = _namer()
    entries = [Entry(e.occurred_at, text) for e in events if e.event_type in DESCRIBERS
               for text in [DESCRIBERS[e.event_type](e, json.loads(e.payload), name)] if text]
    entries += _claims(complaint.instance_id, name) + _refund_entries(complaint)
    entries.sort(key=lambda entry: entry.at)
    values = _latest_values(events)
    return Progress(status=_status(complaint), timeline=entries, reply_by=_reply_by(complaint, values),
                    refunds=[_refund(r) for r in _refunds(complaint)], compensation=_compensation(values))


def _events(instance_id: int | None) -> list[ProcessEvent]:
    if instance_id is None:
        return []
    return list(db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                   .order_by(ProcessEvent.seq)).scalars())


def _namer() -> Callable[[str | None], str]:
    cache: dict[str | None, str] = {}

    def name(username: str | None) -> str:
        if username not in cache:
            user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            cache[username] = user.display_name if user else ""
        return cache[username]
    return name


def _claims(instance_id: int | None, name: Callable[[str | None], str]) -> list[Entry]:
    rows = db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.claimed_at.is_not(None),
        HumanTask.name.in_(ROLE_WORDS))).scalars()
    return [Entry(t.claimed_at, f"{ROLE_WORDS[t.name]}{name(t.assignee)}已接收您的问题")
            for t in rows if t.claimed_at is not None]


def _refunds(complaint: Complaint) -> list[Refund]:
    return list(db.session.execute(select(Refund).where(Refund.complaint_id == complaint.reference)
                                   .order_by(Refund.id)).scalars())


def _refund_entries(complaint: Complaint) -> list[Entry]:
    return [Entry(r.finished_at or r.updated_at, f"{'系统已自动为您' if r.requested_by == 'system' else '已为您'}"
                  f"退款 ¥{_money(r.amount)}，{REFUND_STATES.get(r.state, r.state)}")
            for r in _refunds(complaint) if r.state in ("succeeded", "reconciled")]


def _refund(refund: Refund) -> dict[str, Any]:
    return {"amount": _money(refund.amount), "currency": refund.currency, "state": refund.state,
            "state_label": REFUND_STATES.get(refund.state, refund.state), "created_at": refund.created_at}


def _latest_values(events: list[ProcessEvent]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for event in events:
        if event.event_type == "task.completed":
            values.update(json.loads(event.payload).get("data", {}).get("set", {}))
    return values


def _compensation(values: dict[str, Any]) -> dict[str, Any] | None:
    kind, value = values.get("compensation_type"), values.get("compensation_value") or 0
    if kind in (None, "", "none") or not value:
        return None
    return {"type": kind, "value": value, "label": {"coupon": "优惠券", "points": "积分"}.get(kind, kind)}


def _status(complaint: Complaint) -> str:
    instance = db.session.get(ProcessInstance, complaint.instance_id) if complaint.instance_id else None
    if instance is not None and instance.status in ("completed", "cancelled"):
        return "closed"
    from app.services.complaints import open_customer_task
    return "resolved" if open_customer_task(complaint) is not None else "processing"


def _reply_by(complaint: Complaint, values: dict[str, Any]) -> datetime | None:
    duration = parse_duration(str(values.get("response_sla") or ""))
    return complaint.created_at + duration if duration else None


def parse_duration(text: str) -> timedelta | None:
    """Parse the ISO 8601 durations the SLA table uses (P1D, PT2H, PT30M, P1DT2H)."""
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", text)
    if not match or text in ("P", "PT"):
        return None
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _money(value: Any) -> str:
    return f"{Decimal(str(value or 0)):.2f}"
