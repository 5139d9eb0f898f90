"""The conditions smart alerts watch for, each a small query returning what holds right now.

A rule returns one ``Condition`` per subject (a product, a region, a task group's late tasks, a
refund) for which it holds at ``now``; its ``key`` is what makes an alert fire once (see app/services/alerts.py).
Product and region are the complaint's dashboard facts (``Complaint.product``, ``Complaint.region``,
written at intake from the order by app/services/complaint_facts.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import and_, func, select

from app.extensions import db
from app.models import HumanTask, TaskStatus
from app.models.alert import AlertKind
from app.models.complaint import Complaint
from app.models.payment import PaymentAlert, Refund
from app.payments.states import RefundState
from app.services.complaint_facts import shop_day
from app.services.task_work import STAFF_WORK

EVIDENCE_LIMIT = 200  # ids kept per alert; the count is always exact
NO_GROUP = "-"  # the subject of SLA alerts for tasks without a candidate group


@dataclass(frozen=True)
class AlertSettings:
    """Thresholds of the rules (config ``ALERT_*``; the issue's numbers by default)."""

    product_threshold: int = 5
    window: timedelta = timedelta(hours=24)
    region_factor: float = 3.0
    region_minimum: int = 5
    baseline_days: int = 14
    sla_warning: timedelta = timedelta(minutes=15)
    refund_unknown_after: timedelta = timedelta(minutes=30)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AlertSettings:
        """Read the ``ALERT_*`` settings, keeping the defaults for those not set."""
        return cls(product_threshold=int(config.get("ALERT_PRODUCT_THRESHOLD", 5)),
                   region_factor=float(config.get("ALERT_REGION_FACTOR", 3.0)),
                   region_minimum=int(config.get("ALERT_REGION_MINIMUM", 5)),
                   sla_warning=timedelta(minutes=int(config.get("ALERT_SLA_WARNING_MINUTES", 15))),
                   refund_unknown_after=timedelta(minutes=int(config.get("ALERT_REFUND_UNKNOWN_MINUTES", 30))))


@dataclass(frozen=True)
class Condition:
    """One subject for which a rule holds now, with the evidence a supervisor checks."""

    kind: AlertKind
    subject: str
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.subject}"


def _since(now: datetime, span: timedelta) -> Any:
    """Complaints created in [now - span, now]; the shop-day bound lets the day indexes do the work."""
    start = now - span
    return and_(Complaint.created_day >= shop_day(start), Complaint.created_at >= start, Complaint.created_at <= now)


def _complaint_ids(*criteria: Any) -> list[int]:
    return list(db.session.execute(select(Complaint.id).where(*criteria).order_by(Complaint.created_at.desc())
                                   .limit(EVIDENCE_LIMIT)).scalars())


def product_bursts(now: datetime, settings: AlertSettings) -> list[Condition]:
    """The same product with ``product_threshold`` or more complaints in the last 24 hours."""
    window = _since(now, settings.window)
    rows = db.session.execute(select(Complaint.product, func.count()).where(window, Complaint.product.is_not(None))
                              .group_by(Complaint.product)
                              .having(func.count() >= settings.product_threshold)).all()
    return [Condition(AlertKind.PRODUCT_BURST, product, f"商品「{product}」24 小时内 {count} 条投诉",
                      {"count": count, "threshold": settings.product_threshold,
                       "complaint_ids": _complaint_ids(window, Complaint.product == product)})
            for product, count in rows]


def _delivery() -> Any:
    return func.coalesce(Complaint.case_category, Complaint.category).like("delivery.%")


def region_delivery_spikes(now: datetime, settings: AlertSettings) -> list[Condition]:
    """A region whose delivery complaints in 24 h exceed ``region_factor`` x its daily average and the minimum.

    The average is over the ``baseline_days`` days before the last 24 hours, so the spike
    itself does not raise its own baseline.
    """
    recent = _since(now, settings.window)
    rows = db.session.execute(select(Complaint.region, func.count()).where(
        recent, _delivery(), Complaint.region.is_not(None)).group_by(Complaint.region)
        .having(func.count() >= settings.region_minimum)).all()
    if not rows:
        return []
    base_end, base_start = now - settings.window, now - settings.window - timedelta(days=settings.baseline_days)
    baselines = dict(db.session.execute(select(Complaint.region, func.count()).where(
        Complaint.created_day >= shop_day(base_start), Complaint.created_at >= base_start,
        Complaint.created_at < base_end, _delivery(), Complaint.region.in_([region for region, _ in rows]))
        .group_by(Complaint.region)).all())
    conditions = []
    for region, count in rows:
        baseline = baselines.get(region, 0)
        average = baseline / settings.baseline_days
        if count > settings.region_factor * average:
            conditions.append(Condition(
                AlertKind.REGION_DELIVERY_SPIKE, region,
                f"地区「{region}」24 小时配送投诉 {count} 条，超过 {settings.baseline_days} 日日均 {average:.1f} 的 "
                f"{settings.region_factor:g} 倍",
                {"count": count, "daily_average": round(average, 2), "baseline_count": baseline,
                 "complaint_ids": _complaint_ids(recent, _delivery(), Complaint.region == region)}))
    return conditions


def _by_group(tasks: list[HumanTask]) -> dict[str, list[HumanTask]]:
    groups: dict[str, list[HumanTask]] = {}
    for task in tasks:  # already in due order, so each group's list is too
        groups.setdefault(task.candidate_group or NO_GROUP, []).append(task)
    return groups


def _group_evidence(group: str, tasks: list[HumanTask]) -> dict[str, Any]:
    shown = tasks[:EVIDENCE_LIMIT]
    return {"group": group, "count": len(tasks), "task_ids": [t.task_id for t in shown],
            "assignees": sorted({t.assignee for t in tasks if t.assignee}),
            "earliest_due_at": tasks[0].due_at.isoformat() if tasks[0].due_at else None,
            "complaint_refs": [t.complaint_ref for t in shown if t.complaint_ref]}


def _open_tasks(*criteria: Any) -> list[HumanTask]:
    """Open staff tasks with an SLA (the customer's own confirmation window is not a staff SLA)."""
    return list(db.session.execute(select(HumanTask).where(
        HumanTask.status == TaskStatus.OPEN.value, HumanTask.due_at.is_not(None), STAFF_WORK, *criteria)
        .order_by(HumanTask.due_at, HumanTask.id)).scalars())


def _sla_conditions(kind: AlertKind, tasks: list[HumanTask], one: str, many: str) -> list[Condition]:
    """One condition per candidate group: a morning with 40 late tasks is one alert per queue, not 40."""
    return [Condition(kind, group, (one.format(title=group_tasks[0].title) if len(group_tasks) == 1
                                    else many.format(group=group, count=len(group_tasks))),
                      _group_evidence(group, group_tasks))
            for group, group_tasks in _by_group(tasks).items()]


def sla_due_soon(now: datetime, settings: AlertSettings) -> list[Condition]:
    """Open tasks whose SLA ends within the warning time (15 minutes) and has not passed yet, per group."""
    minutes = f"{settings.sla_warning.total_seconds() / 60:g}"
    return _sla_conditions(AlertKind.SLA_DUE_SOON,
                           _open_tasks(HumanTask.due_at > now, HumanTask.due_at <= now + settings.sla_warning),
                           "任务「{title}」将在 " + minutes + " 分钟内超时",
                           "「{group}」组 {count} 个任务将在 " + minutes + " 分钟内超时")


def sla_breached(now: datetime, settings: AlertSettings) -> list[Condition]:
    """Open tasks past their SLA, per group."""
    return _sla_conditions(AlertKind.SLA_BREACHED, _open_tasks(HumanTask.due_at <= now),
                           "任务「{title}」已超时 SLA breached", "「{group}」组 {count} 个任务已超时 SLA breached")


def refunds_stuck_unknown(now: datetime, settings: AlertSettings) -> list[Condition]:
    """Refunds in ``unknown`` for longer than the threshold; linked to finance's open payment alerts."""
    refunds = db.session.execute(select(Refund.id, Refund.amount, Refund.provider, Refund.updated_at,
                                        Refund.complaint_id).where(
        Refund.state == RefundState.UNKNOWN.value, Refund.updated_at <= now - settings.refund_unknown_after)
        .order_by(Refund.id)).all()
    linked: dict[int, list[int]] = {}
    if refunds:
        for alert_id, refund_id in db.session.execute(select(PaymentAlert.id, PaymentAlert.refund_id).where(
                PaymentAlert.refund_id.in_([r.id for r in refunds]), PaymentAlert.resolved_at.is_(None))
                .order_by(PaymentAlert.id)):
            linked.setdefault(refund_id, []).append(alert_id)
    minutes = int(settings.refund_unknown_after.total_seconds() // 60)
    return [Condition(AlertKind.REFUND_UNKNOWN, str(refund.id),
                      f"退款 #{refund.id}（¥{refund.amount}）状态未知已超过 {minutes} 分钟",
                      {"refund_ids": [refund.id], "amount": str(refund.amount), "provider": refund.provider,
                       "since": refund.updated_at.isoformat(), "payment_alert_ids": linked.get(refund.id, []),
                       "complaint_refs": [refund.complaint_id] if refund.complaint_id else []})
            for refund in refunds]


RULES: dict[AlertKind, Callable[[datetime, AlertSettings], list[Condition]]] = {
    AlertKind.PRODUCT_BURST: product_bursts,
    AlertKind.REGION_DELIVERY_SPIKE: region_delivery_spikes,
    AlertKind.SLA_DUE_SOON: sla_due_soon,
    AlertKind.SLA_BREACHED: sla_breached,
    AlertKind.REFUND_UNKNOWN: refunds_stuck_unknown,
}
