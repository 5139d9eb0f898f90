"""Outcomes an auditor searches by: refunded amount, SLA breached, reopened.

Read from the record itself: the payments package's ``Refund`` rows where the instance has any,
otherwise the instance's recorded data diffs (``refund_state`` turning paid, with the
``refund_amount`` set at that point); fired SLA timers; completed reopen steps.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import Select, func, or_, select

from app.extensions import db
from app.models import ProcessEvent, Refund

PAID_STATES = ("succeeded", "paid_manually", "reconciled")
DEFAULT_SLA_TIMERS = ("response_sla_missed", "resolution_sla_missed")
DEFAULT_REOPEN_STEPS = ("count_reopen",)


def _setting(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(current_app.config.get(name) or default)


def sla_breached() -> Select[Any]:
    """Instance ids with a fired SLA timer (config ``AUDIT_SLA_TIMERS``: boundary event ids)."""
    return select(ProcessEvent.instance_id).where(
        ProcessEvent.event_type == "timer.fired",
        ProcessEvent.task_name.in_(_setting("AUDIT_SLA_TIMERS", DEFAULT_SLA_TIMERS)))


def reopened() -> Select[Any]:
    """Instance ids where the customer's "not satisfied" path ran (config ``AUDIT_REOPEN_STEPS``)."""
    return select(ProcessEvent.instance_id).where(
        ProcessEvent.event_type == "task.completed",
        ProcessEvent.task_name.in_(_setting("AUDIT_REOPEN_STEPS", DEFAULT_REOPEN_STEPS)))


def _from_refund_rows() -> dict[int, Decimal]:
    rows = db.session.execute(select(Refund.instance_id, func.sum(Refund.amount))
                              .where(Refund.instance_id.is_not(None), Refund.state.in_(PAID_STATES))
                              .group_by(Refund.instance_id))
    return {int(i): Decimal(str(total)) for i, total in rows}


def _from_events(skip: Iterable[int]) -> dict[int, Decimal]:
    """Walk the data diffs of instances whose refund_state ever turned paid; sum each payout once."""
    needles = [ProcessEvent.payload.like(f'%"refund_state":"{state}"%') for state in PAID_STATES]
    paid = select(ProcessEvent.instance_id).where(ProcessEvent.event_type == "task.completed", or_(*needles))
    rows = db.session.execute(select(ProcessEvent.instance_id, ProcessEvent.payload)
                              .where(ProcessEvent.instance_id.in_(paid), ProcessEvent.event_type == "task.completed",
                                     ProcessEvent.instance_id.not_in(list(skip) or [-1]))
                              .order_by(ProcessEvent.instance_id, ProcessEvent.seq))
    totals: dict[int, Decimal] = {}
    state: dict[int, tuple[Any, Any]] = {}  # instance -> (refund_amount, refund_state)
    for instance_id, payload in rows:
        changed = (json.loads(payload).get("data") or {}).get("set") or {}
        amount, before = state.get(instance_id, (None, None))
        amount = changed.get("refund_amount", amount)
        after = changed.get("refund_state", before)
        if after in PAID_STATES and before not in PAID_STATES and amount is not None:
            totals[instance_id] = totals.get(instance_id, Decimal("0")) + Decimal(str(amount))
        state[instance_id] = (amount, after)
    return totals


def refunded_amounts() -> dict[int, Decimal]:
    """Money refunded per instance (only instances that refunded anything)."""
    rows = _from_refund_rows()
    return {**_from_events(rows), **rows}


def refunded_between(low: Decimal | None, high: Decimal | None) -> list[int]:
    """Instance ids whose refunded total lies within [low, high] (either bound optional)."""
    return sorted(i for i, total in refunded_amounts().items()
                  if (low is None or total >= low) and (high is None or total <= high))
