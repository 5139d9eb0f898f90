"""Keep each complaint's dashboard facts, and its share of the daily rollup, in step with its case.

Facts are written at the moment they happen, in the transaction that makes them happen:

* intake (``record_intake``): the shop day, product (the order's first item) and region;
* every complaint_handling command (``observe``, called by processes._save):
  the case category and group once classified and routed, the SLA deadlines from the
  priority table's ``response_sla`` / ``resolution_sla``, the **first response** (the first
  time the shop writes back to the customer: a request for information or a resolution to
  confirm), the **resolution** (the latest resolution put to the customer, or the close when
  there was none) and the customer's **confirmation** (satisfied, CSAT 1-5).

A complaint contributes one row of measures to ``complaint_daily`` (its day, category,
group, channel); any change removes the old contribution and adds the new one, so the
rollup equals a GROUP BY over the complaint table at every commit. ``complaint_top_daily``
(per day and per month, product / region and the same dimensions) moves the same way, and a
refund's count in ``refund_daily`` moves from the dimensions the refund remembers.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import ComplaintDaily, ComplaintTopDaily, ProcessInstance, Refund, RefundDaily
from app.models.complaint import Complaint
from app.models.dashboard import ROLLUP_MEASURES
from app.models.order import Order

CONFIRM_TASK = "confirm_resolution"
CUSTOMER_GROUP = "customer"
CONFIRM_WINDOW = timedelta(hours=72)
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")

Key = tuple[date, str, str, str]


def shop_zone() -> ZoneInfo:
    """Return the shop's time zone (config SHOP_TIMEZONE, Asia/Shanghai by default)."""
    name = current_app.config.get("SHOP_TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def shop_day(moment: datetime) -> date:
    """Return the shop's calendar day of a UTC moment."""
    return moment.astimezone(shop_zone()).date()


def parse_duration(text: Any) -> timedelta | None:
    """Parse the ISO 8601 durations the priority table uses (P1D, PT2H, PT30M); None if unreadable."""
    match = _DURATION.match(str(text or ""))
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def record_intake(complaint: Complaint, order: Order) -> None:
    """Fill the facts known at intake and add the new complaint to the rollup."""
    complaint.created_day = shop_day(complaint.created_at)
    complaint.case_category = complaint.category
    items = order.items or []
    complaint.product = str(items[0].get("name"))[:120] if items and items[0].get("name") else None
    complaint.region = order.region
    key, measures = contribution(complaint)
    _add(key, measures, sign=1)
    _add_top(complaint, key, sign=1)


def observe(instance: ProcessInstance, data: dict[str, Any], *, created: list[tuple[str, str | None]],
            confirmed: bool, completed: bool, now: datetime) -> None:
    """Update a complaint's facts after one command on its complaint_handling instance.

    ``created`` lists (task name, candidate group) of the user tasks the command opened,
    ``confirmed`` says it completed the customer's confirm_resolution task, ``completed``
    that the instance ended.
    """
    complaint = _complaint_of(instance)
    if complaint is None:
        return
    before = contribution(complaint)
    _classified(complaint, data)
    if any(group == CUSTOMER_GROUP for _, group in created) and complaint.first_response_at is None:
        complaint.first_response_at = now
    if any(name == CONFIRM_TASK for name, _ in created) or (completed and complaint.resolved_at is None):
        complaint.resolved_at = now
        complaint.first_response_at = complaint.first_response_at or now
    if confirmed:
        complaint.confirmed_at = now
        complaint.satisfied = bool(data.get("satisfied"))
        csat = data.get("csat")
        complaint.csat = int(csat) if isinstance(csat, int) and 1 <= csat <= 5 else None
    _durations(complaint)
    move_contribution(before, complaint)


def move_contribution(before: tuple[Key, dict[str, int]], complaint: Complaint) -> None:
    """Replace a complaint's earlier rollup contribution ``before`` by its current one (its refunds' too)."""
    after = contribution(complaint)
    if after != before:
        _add(*before, sign=-1)
        _add(*after, sign=1)
    if after[0][1:] != before[0][1:]:
        _add_top(complaint, before[0], sign=-1)
        _add_top(complaint, after[0], sign=1)
        refunds = db.session.execute(select(Refund).where(Refund.complaint_id == complaint.reference)).scalars()
        for refund in refunds:
            # from where the refund is counted (not ``before``: it may have been counted after a change)
            counted = _counted(refund)
            if counted is not None and counted != after[0][1:]:
                _add_refund(refund, counted, refund.state, sign=-1)
                _add_refund(refund, after[0][1:], refund.state, sign=1)
                _remember(refund, after[0][1:])


def _add_top(complaint: Complaint, key: Key, *, sign: int) -> None:
    """Add (or remove) a complaint's count for its product and region, in its day's and its month's rows."""
    for kind, name in (("product", complaint.product), ("region", complaint.region)):
        if not name:
            continue
        for period, day in (("day", key[0]), ("month", key[0].replace(day=1))):
            _upsert(ComplaintTopDaily.__table__, {"kind": kind, "period": period, "day": day, "category": key[1],
                                                   "handling_group": key[2], "channel": key[3], "name": name},
                    {"complaints": 1}, sign=sign)


def _counted(refund: Refund) -> tuple[str, str, str] | None:
    """Return the (category, group, channel) a refund is counted under in refund_daily; None before it is."""
    if refund.counted_category is None:
        return None
    return refund.counted_category, refund.counted_group or "", refund.counted_channel or ""


def record_refund(refund: Refund, *, previous_state: str | None = None) -> None:
    """Count a new refund in ``refund_daily``, or move it there from ``previous_state`` to its state.

    A refund is counted once, under the dimensions it remembers (``counted_*``), so a complaint
    recategorised in the same transaction moves it from where it really is.
    """
    dimensions = _counted(refund)
    if dimensions is not None and previous_state is not None:
        _add_refund(refund, dimensions, previous_state, sign=-1)
    elif dimensions is not None:
        return  # counted already
    else:
        complaint = _complaint_by_reference(refund.complaint_id)
        dimensions = contribution(complaint)[0][1:] if complaint is not None else ("", "", "")
        _remember(refund, dimensions)
    _add_refund(refund, dimensions, refund.state, sign=1)


def _remember(refund: Refund, dimensions: tuple[str, str, str]) -> None:
    refund.counted_category, refund.counted_group, refund.counted_channel = dimensions


def _complaint_by_reference(reference: str | None) -> Complaint | None:
    if not reference or not reference.startswith("C-") or not reference[2:].isdigit():
        return None
    complaint = db.session.get(Complaint, int(reference[2:]))
    return complaint if complaint is not None and complaint.created_day is not None else None


def _add_refund(refund: Refund, dimensions: tuple[str, str, str], state: str, *, sign: int) -> None:
    key = {"day": shop_day(refund.created_at), "category": dimensions[0], "handling_group": dimensions[1],
           "channel": dimensions[2], "automatic": refund.requested_by == "system", "state": state}
    _upsert(RefundDaily.__table__, key, {"refunds": 1, "amount": refund.amount}, sign=sign)


def _complaint_of(instance: ProcessInstance) -> Complaint | None:
    return _complaint_by_reference(instance.business_key) if instance.process_id == "complaint_handling" else None


def _classified(complaint: Complaint, data: dict[str, Any]) -> None:
    if isinstance(data.get("category"), str) and data["category"]:
        complaint.case_category = data["category"]
    if isinstance(data.get("group"), str) and data["group"]:
        complaint.handling_group = data["group"]
    response, resolution = parse_duration(data.get("response_sla")), parse_duration(data.get("resolution_sla"))
    if response is not None and complaint.response_due_at is None:
        complaint.response_due_at = complaint.created_at + response
    if resolution is not None and complaint.resolution_due_at is None:
        complaint.resolution_due_at = complaint.created_at + resolution


def _durations(complaint: Complaint) -> None:
    if complaint.first_response_at is not None:
        complaint.response_seconds = int((complaint.first_response_at - complaint.created_at).total_seconds())
    if complaint.resolved_at is not None:
        complaint.resolution_seconds = int((complaint.resolved_at - complaint.created_at).total_seconds())


def _met(done: datetime | None, due: datetime | None) -> tuple[int, int]:
    """Return (met, late) for a step done at ``done`` against deadline ``due`` (open steps count neither)."""
    if done is None or due is None:
        return 0, 0
    return (1, 0) if done <= due else (0, 1)


def contribution(complaint: Complaint) -> tuple[Key, dict[str, int]]:
    """Return the rollup key of a complaint and its measures (see ComplaintDaily)."""
    response_met, response_late = _met(complaint.first_response_at, complaint.response_due_at)
    resolution_met, resolution_late = _met(complaint.resolved_at, complaint.resolution_due_at)
    satisfied_72h = int(bool(complaint.satisfied) and complaint.confirmed_at is not None
                        and complaint.resolved_at is not None
                        and complaint.confirmed_at - complaint.resolved_at <= CONFIRM_WINDOW)
    measures = {
        "complaints": 1,
        "responded": int(complaint.response_seconds is not None),
        "response_seconds_sum": complaint.response_seconds or 0,
        "resolved": int(complaint.resolution_seconds is not None),
        "resolution_seconds_sum": complaint.resolution_seconds or 0,
        "response_met": response_met, "response_late": response_late,
        "resolution_met": resolution_met, "resolution_late": resolution_late,
        "rated": int(complaint.csat is not None), "csat_sum": complaint.csat or 0,
        "satisfied_72h": satisfied_72h,
    }
    key = (complaint.created_day, complaint.case_category or complaint.category, complaint.handling_group or "",
           complaint.channel)
    return key, measures


def _add(key: Key, measures: dict[str, int], *, sign: int) -> None:
    columns = {"day": key[0], "category": key[1], "handling_group": key[2], "channel": key[3]}
    _upsert(ComplaintDaily.__table__, columns, {name: measures[name] for name in ROLLUP_MEASURES}, sign=sign)


def _upsert(table: Any, key: dict[str, Any], measures: dict[str, Any], *, sign: int) -> None:
    """Add (sign 1: one upsert) or remove (sign -1: one update of the row it was added to) measures at a key."""
    db.session.flush()
    if sign < 0:
        db.session.execute(update(table).where(*[table.c[k] == v for k, v in key.items()])
                           .values({name: table.c[name] - value for name, value in measures.items()}))
        return
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**key, **measures)
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + statement.excluded[name] for name in measures})
    db.session.execute(statement)


def rebuild_rollup() -> int:
    """Recompute complaint_daily and refund_daily from the complaint and refund rows; return their rows."""
    db.session.execute(ComplaintDaily.__table__.delete())
    db.session.execute(RefundDaily.__table__.delete())
    db.session.execute(ComplaintTopDaily.__table__.delete())
    sums: dict[Key, dict[str, int]] = {}
    tops: dict[tuple[str, str, date, str, str, str, str], int] = {}
    dimensions: dict[str, tuple[str, str, str]] = {}
    for complaint in db.session.execute(select(Complaint).where(Complaint.created_day.is_not(None))).scalars():
        key, measures = contribution(complaint)
        dimensions[complaint.reference] = key[1:]
        for kind, name in (("product", complaint.product), ("region", complaint.region)):
            for period, day in (("day", key[0]), ("month", key[0].replace(day=1))) if name else ():
                top = (kind, period, day, *key[1:], name)
                tops[top] = tops.get(top, 0) + 1
        row = sums.setdefault(key, dict.fromkeys(ROLLUP_MEASURES, 0))
        for name in ROLLUP_MEASURES:
            row[name] += measures[name]
    if sums:
        db.session.execute(ComplaintDaily.__table__.insert(), [
            {"day": k[0], "category": k[1], "handling_group": k[2], "channel": k[3], **v} for k, v in sums.items()])
    if tops:
        db.session.execute(ComplaintTopDaily.__table__.insert(), [
            {"kind": k[0], "period": k[1], "day": k[2], "category": k[3], "handling_group": k[4], "channel": k[5],
             "name": k[6], "complaints": n} for k, n in tops.items()])
    refunds: dict[tuple[Any, ...], list[Any]] = {}
    for refund in db.session.execute(select(Refund)).scalars():
        dims = dimensions.get(refund.complaint_id or "", ("", "", ""))
        _remember(refund, dims)
        total = refunds.setdefault((shop_day(refund.created_at), *dims, refund.requested_by == "system",
                                    refund.state), [0, 0])
        total[0] += 1
        total[1] += refund.amount
    if refunds:
        db.session.execute(RefundDaily.__table__.insert(), [
            {"day": k[0], "category": k[1], "handling_group": k[2], "channel": k[3], "automatic": k[4], "state": k[5],
             "refunds": n, "amount": amount} for k, (n, amount) in refunds.items()])
    return len(sums) + len(refunds) + len(tops)
