"""Smart alerts: fire once per condition, notify supervisors, acknowledge, clear when the condition ends.

The minute chore (``alerts.evaluate``) asks every rule in app/services/alert_rules.py what holds
now. A condition without an open alert opens one (and writes one staff notification for the
supervisors); an open alert whose condition no longer holds is resolved, which frees its
condition key so that the condition may fire again when it recurs. The unique ``open_key``
column makes "once" hold even if two schedulers overlapped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import HumanTask
from app.models.alert import Alert, AlertKind
from app.models.complaint import Complaint
from app.models.notification import Notification, NotificationStatus
from app.models.payment import Refund
from app.services import audit
from app.services.alert_rules import RULES, AlertSettings, Condition
from app.services.shop_time import shop_time, shop_zone_label

if TYPE_CHECKING:
    from app.runtime import Runtime

SUPERVISORS = "supervisors"
SEEN_CHUNK = 5000  # ids per UPDATE (SQLite allows 32,766 bound parameters)
KIND_NAMES = {
    AlertKind.PRODUCT_BURST.value: "商品投诉集中 Product burst",
    AlertKind.REGION_DELIVERY_SPIKE.value: "地区配送异常 Region delivery spike",
    AlertKind.SLA_DUE_SOON.value: "即将超时 SLA due soon",
    AlertKind.SLA_BREACHED.value: "已超时 SLA breached",
    AlertKind.REFUND_UNKNOWN.value: "退款状态未知 Refund unknown",
}


@dataclass(frozen=True)
class EvaluationReport:
    fired: list[int]
    resolved: list[int]
    still_open: int


def evaluate(now: datetime, settings: AlertSettings | None = None) -> EvaluationReport:
    """Run every rule once: open alerts for new conditions, resolve those whose condition ended."""
    settings = settings or AlertSettings()
    current = {condition.key: condition for rule in RULES.values() for condition in rule(now, settings)}
    open_alerts = db.session.execute(select(Alert).where(Alert.resolved_at.is_(None))).scalars().all()
    resolved, seen = [], []
    for alert in open_alerts:
        condition = current.pop(alert.open_key or "", None)
        if condition is None:
            alert.open_key, alert.resolved_at = None, now
            resolved.append(alert.id)
        else:
            seen.append(alert.id)
            if alert.evidence != condition.evidence:  # only what changed is written back
                alert.evidence, alert.title = condition.evidence, condition.title[:255]
    for start in range(0, len(seen), SEEN_CHUNK):  # a few statements, however many alerts stay open
        db.session.execute(update(Alert).where(Alert.id.in_(seen[start:start + SEEN_CHUNK])).values(last_seen_at=now)
                           .execution_options(synchronize_session=False))
    fired = [alert.id for alert in (_fire(condition, now) for condition in current.values()) if alert]
    db.session.flush()
    return EvaluationReport(fired, resolved, len(open_alerts) - len(resolved))


def _fire(condition: Condition, now: datetime) -> Alert | None:
    """Open the alert and notify the supervisors; None if another run opened it first."""
    alert = Alert(kind=condition.kind.value, condition_key=condition.key, open_key=condition.key,
                  title=condition.title[:255], subject=condition.subject[:200], evidence=condition.evidence,
                  fired_at=now, last_seen_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        return None
    db.session.add(Notification(
        channel="staff", recipient=SUPERVISORS, template="alert_fired",
        payload={"alert_id": alert.id, "kind": alert.kind, "title": alert.title, "path": f"/alerts/{alert.id}"},
        status=NotificationStatus.QUEUED.value, idempotency_key=f"alert:{alert.id}", created_at=now))
    return alert


def evaluate_chore(now: datetime) -> None:
    """The scheduler's minute chore, with thresholds from the app config."""
    evaluate(now, AlertSettings.from_config(current_app.config))


def acknowledge(alert_id: int, *, actor: str, now: datetime) -> Alert:
    """Record that ``actor`` has seen the alert and is on it (once; audited)."""
    alert = get_alert(alert_id)
    if alert.acknowledged_at is not None:
        raise Conflict(f"{alert.acknowledged_by} already acknowledged this alert at "
                       f"{shop_time(alert.acknowledged_at)} ({shop_zone_label(now)}); nothing more to do")
    alert.acknowledged_by, alert.acknowledged_at = actor, now
    audit.record_system_event("alert.acknowledged", {"alert_id": alert.id, "kind": alert.kind,
                                                     "condition_key": alert.condition_key}, actor=actor, now=now)
    db.session.flush()
    return alert


def get_alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"there is no alert {alert_id}; open it from the alert list")
    return alert


def list_alerts(*, state: str = "open", kind: str | None = None, limit: int = 100) -> list[Alert]:
    """Alerts newest first: ``open`` (not resolved), ``unacknowledged`` (open, nobody on it) or ``all``."""
    query = select(Alert).order_by(Alert.fired_at.desc(), Alert.id.desc()).limit(limit)
    if state in ("open", "unacknowledged"):
        query = query.where(Alert.resolved_at.is_(None))
    if state == "unacknowledged":
        query = query.where(Alert.acknowledged_at.is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    return list(db.session.execute(query).scalars())


def open_counts() -> dict[str, int]:
    """Open alerts per kind (the dashboard panel's badges)."""
    return dict(db.session.execute(select(Alert.kind, func.count()).where(Alert.resolved_at.is_(None))
                                   .group_by(Alert.kind)).all())


def alert_subjects(alert: Alert) -> dict[str, list[Any]]:
    """The complaints (each with its open task's id, if any), tasks and refunds behind an alert."""
    evidence = alert.evidence or {}
    ids = [int(i) for i in evidence.get("complaint_ids", [])]
    refs = [str(r) for r in evidence.get("complaint_refs", [])]
    ids += [int(r[2:]) for r in refs if r.startswith("C-") and r[2:].isdigit()]
    complaints = list(db.session.execute(select(Complaint).where(Complaint.id.in_(ids))
                                         .order_by(Complaint.created_at.desc())).scalars()) if ids else []
    instance_ids = [c.instance_id for c in complaints if c.instance_id]
    task_of = dict(db.session.execute(select(HumanTask.instance_id, HumanTask.task_id).where(
        HumanTask.instance_id.in_(instance_ids), HumanTask.status == "open")).all()) if instance_ids else {}
    task_ids = [str(t) for t in evidence.get("task_ids", [])]
    tasks = list(db.session.execute(select(HumanTask).where(HumanTask.task_id.in_(task_ids))).scalars()) \
        if task_ids else []
    refund_ids = [int(r) for r in evidence.get("refund_ids", [])]
    refunds = list(db.session.execute(select(Refund).where(Refund.id.in_(refund_ids))).scalars()) \
        if refund_ids else []
    return {"complaints": [(c, task_of.get(c.instance_id)) for c in complaints], "tasks": tasks,
            "refunds": refunds}


def register_alerts(runtime: Runtime) -> None:
    """Register the minute chore that evaluates the rules."""
    runtime.register_chore("alerts.evaluate", evaluate_chore, every_seconds=60)
