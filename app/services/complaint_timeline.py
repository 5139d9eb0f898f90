"""The customer's view of a complaint: a timeline in plain words, status, SLA promise, refunds, compensation.

Built from the instance's event log (what the engine recorded), the task projection (who took
it) and payments' refunds; each event kind has a small describer in a registry. Sentences are
English msgids translated (app/translations) into the language of the request reading them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessEvent, ProcessInstance, Refund, User
from app.models.complaint import Complaint
from app.services.refunds import retry_source_key

SUBMITTED_KEPT = ("request_info",)   # besides the staff tasks: the customer's answer, even if repeated word for word
ROLE_WORDS = {"handle": _l("Agent"), "expert_review": _l("Expert"), "supervisor_review": _l("Supervisor")}
OUTCOME_TEXT = {
    "reply": _l("%(who)s replied to you: %(reply)s"),
    "refund": _l("%(who)s has requested a refund of ¥%(amount)s for you"),
    "compensate": _l("%(who)s has issued compensation to you"),
    "reship": _l("%(who)s has arranged a replacement shipment for you"),
    "more_info": _l("%(who)s needs more information from you"),
    "escalate": _l("%(who)s has escalated it"),
}
READY_TEXT = {
    "handle": _l("Our service team has received your question and is arranging for it to be handled"),
    "expert_review": _l("An expert has taken over"),
    "supervisor_review": _l("A supervisor has escalated it"),
    "request_info": _l("Please add information so we can continue (within 72 hours)"),
    "confirm_resolution": _l("It has been handled; please confirm within 72 hours whether it is solved"),
}
REFUND_STATES = {"requested": _l("processing"), "approved": _l("approved"), "submitted": _l("refunding"),
                 "succeeded": _l("received"), "failed": _l("failed; finance is handling it"),
                 "unknown": _l("being confirmed"), "reconciled": _l("received"), "paid_manually": _l("received")}
SENT_AGAIN = _l("did not go through; sent again as a new refund")
# What the refund process told the customer (its notify_customer steps), as the timeline says it.
REFUND_NOTICES = {
    "refund_rejected": _l("The shop did not approve the refund of ¥%(amount)s"),
    "refund_rejected_reason": _l("The shop did not approve the refund of ¥%(amount)s. Reason: %(reason)s"),
    "refund_failed": _l("The refund of ¥%(amount)s did not go through; our finance team is handling it"),
    "refund_cancelled": _l("The refund of ¥%(amount)s was cancelled; we will contact you with another solution"),
}
COMPENSATION_LABELS = {"coupon": _l("Coupon"), "points": _l("Points")}


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


Describer = Callable[[ProcessEvent, dict[str, Any], Callable[[str | None], str]], "str | list[str] | None"]


def _started(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    return _("Your complaint has been submitted and received")


def _completed(event: ProcessEvent, payload: dict[str, Any],
               name: Callable[[str | None], str]) -> str | list[str] | None:
    changed = payload.get("data", {}).get("set", {})
    if event.task_name == "decide_auto_resolution" and changed.get("auto_resolution") in ("refund", "coupon"):
        return _("The system has handled it automatically: %(reason)s",
                 reason=changed.get("auto_resolution_reason", ""))
    answer = {**changed, **payload.get("submitted", {})}   # what changed, and the form as sent (same outcome again)
    if event.task_name in ROLE_WORDS and answer.get("outcome") in OUTCOME_TEXT:
        return _outcome(answer, _who(event.task_name, name(event.actor)))
    if event.task_name == "confirm_resolution":
        if not changed.get("satisfied"):
            return _("You told us it is not solved yet; we are handling it again")
        if changed.get("csat"):
            return _("You confirmed it is solved (rating %(csat)s)", csat=changed["csat"])
        return _("You confirmed it is solved")
    if event.task_name == "request_info":
        return _("You answered: %(answer)s", answer=str(answer.get("additional_info") or "").strip())
    return None


def _outcome(changed: dict[str, Any], who: str) -> list[str]:
    """Return what the agent wrote to the customer (with any outcome) and what they decided.

    Only the reply and the decision's public facts reach the customer: the internal note never does.
    """
    outcome, reply = changed["outcome"], str(changed.get("reply") or "").strip()
    values = {"who": who, "reply": reply, "amount": _money(changed.get("refund_amount"))}
    sentences = [str(OUTCOME_TEXT["reply"]) % values] if reply and outcome != "reply" else []
    return sentences + [str(OUTCOME_TEXT[outcome]) % values]


def _ready(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    text = READY_TEXT.get(event.task_name or "")
    return str(text) if text is not None else None


def _timer(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    if event.task_name == "info_timeout":
        return _("We did not receive the information within 72 hours, so the complaint was closed")
    if event.task_name != "confirm_timeout":
        return None
    return _("We did not hear from you within 72 hours, so the complaint was closed as resolved")


def _refund_notice(event: ProcessEvent, payload: dict[str, Any], name: Callable[[str | None], str]) -> str | None:
    """A refund rejected, failed or given up, in the words of the message the customer was sent."""
    params = payload.get("params") or {}
    text = REFUND_NOTICES.get(str(params.get("template"))) if payload.get("operator") == "notify_customer" else None
    if text is None:
        return None
    notice = params.get("payload") or {}
    reason = str(notice.get("reason") or "").strip()
    if reason and params.get("template") == "refund_rejected":
        text = REFUND_NOTICES["refund_rejected_reason"]
    return str(text) % {"amount": _money(notice.get("refund_amount")), "reason": reason}


DESCRIBERS: dict[str, Describer] = {
    "service.called": _refund_notice,
    "instance.started": _started, "task.completed": _completed, "task.ready": _ready, "timer.fired": _timer,
    "instance.completed": lambda event, payload, name: _("The complaint is closed"),
}


def _with_submissions(events: list[ProcessEvent]) -> list[tuple[ProcessEvent, dict[str, Any]]]:
    """The described events with their payloads; a staff task's completion also carries its submitted form.

    task.completed records only the data that changed, so a second reply with the same outcome would
    otherwise lose its outcome; the form as sent is the task.submitted event just before it.
    """
    described, submitted = [], {}
    for event in events:
        payload = json.loads(event.payload)
        kept = event.task_name in ROLE_WORDS or event.task_name in SUBMITTED_KEPT
        if event.event_type == "task.submitted" and kept:
            submitted[event.task_name] = payload.get("data") or {}
        elif event.event_type in DESCRIBERS:
            if event.event_type == "task.completed" and kept:
                payload = {**payload, "submitted": submitted.pop(event.task_name, {})}
            described.append((event, payload))
    return described


def progress(complaint: Complaint) -> Progress:
    """Return the complaint's progress as its customer sees it."""
    events = _events(complaint.instance_id)
    name = _namer()
    entries = [Entry(e.occurred_at, text) for e, payload in _with_submissions(events)
               for text in _sentences(DESCRIBERS[e.event_type](e, payload, name)) if text]
    entries += _claims(complaint.instance_id, name) + _refund_entries(complaint)
    entries.sort(key=lambda entry: entry.at)
    values = _latest_values(events)
    answered = any(e.event_type == "task.completed" and e.task_name in ROLE_WORDS for e in events)
    return Progress(status=_status(complaint), timeline=entries,
                    reply_by=None if answered else _reply_by(complaint, values),   # promised, not yet kept
                    refunds=_refund_list(_refunds(complaint)), compensation=_compensation(values))


def _sentences(described: str | list[str] | None) -> list[str]:
    return described if isinstance(described, list) else [described] if described else []


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
    return [Entry(t.claimed_at, _("%(who)s has received your question", who=_who(t.name, name(t.assignee))))
            for t in rows if t.claimed_at is not None]


def _who(task_name: str, person: str) -> str:
    """Return "客服小王" / "Agent 小王": the role of the task and the person's display name."""
    return _("%(role)s %(name)s", role=ROLE_WORDS[task_name], name=person).strip()


def _refunds(complaint: Complaint) -> list[Refund]:
    return list(db.session.execute(select(Refund).where(Refund.complaint_id == complaint.reference)
                                   .order_by(Refund.id)).scalars())


def _refund_entries(complaint: Complaint) -> list[Entry]:
    return [Entry(r.finished_at or r.updated_at, _refund_sentence(r))
            for r in _refunds(complaint) if r.state in ("succeeded", "reconciled", "paid_manually")]


def _refund_sentence(refund: Refund) -> str:
    state = _state_label(refund.state)
    if refund.requested_by == "system":
        return _("The system refunded ¥%(amount)s to you automatically, %(state)s",
                 amount=_money(refund.amount), state=state)
    return _("¥%(amount)s was refunded to you, %(state)s", amount=_money(refund.amount), state=state)


def _state_label(state: str) -> str:
    return str(REFUND_STATES.get(state, state))


def _refund_list(refunds: list[Refund]) -> list[dict[str, Any]]:
    """The complaint's refunds; a failed one that finance sent again says so (its new attempt follows it)."""
    def sent_again(failed: Refund) -> bool:
        prefix = retry_source_key(failed)
        return any(other.source_key.startswith(prefix) for other in refunds if other.id != failed.id)
    return [_refund(r, SENT_AGAIN if r.state == "failed" and sent_again(r) else None) for r in refunds]


def _refund(refund: Refund, label: Any = None) -> dict[str, Any]:
    return {"amount": _money(refund.amount), "currency": refund.currency, "state": refund.state,
            "state_label": str(label) if label is not None else _state_label(refund.state),
            "created_at": refund.created_at}


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
    return {"type": kind, "value": value, "label": str(COMPENSATION_LABELS.get(kind, kind))}


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
