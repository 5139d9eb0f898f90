"""Each smart alert fires once at its threshold, not below it, not again on a second run, and again
after it was cleared and the condition recurs (frozen clock, real database)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models import HumanTask, Notification
from app.models.alert import Alert
from app.services import alerts, refunds
from app.payments.states import RefundState


def _run(clock: Any) -> alerts.EvaluationReport:
    report = alerts.evaluate(clock.now())
    db.session.commit()
    return report


def _alerts(kind: str) -> list[Alert]:
    return list(db.session.execute(select(Alert).where(Alert.kind == kind).order_by(Alert.id)).scalars())


def _burst(seeder: Any, clock: Any, count: int, product: str = "陶瓷杯", ago: timedelta = timedelta(hours=1)) -> None:
    for _ in range(count):
        seeder.complaint(clock.now() - ago, product=product, text="杯子有裂纹")
    db.session.commit()


def test_product_burst_fires_at_five_not_at_four(seeder: Any, clock: Any) -> None:
    _burst(seeder, clock, 4)
    _burst(seeder, clock, 4, product="无线耳机")
    assert _run(clock).fired == [] and _alerts("product_burst") == []
    _burst(seeder, clock, 1)
    report = _run(clock)
    [alert] = _alerts("product_burst")
    assert report.fired == [alert.id]
    assert alert.subject == "陶瓷杯" and alert.evidence["count"] == 5 and len(alert.evidence["complaint_ids"]) == 5
    assert alert.open_key == "product_burst:陶瓷杯" and alert.resolved_at is None
    [note] = db.session.execute(select(Notification).where(Notification.idempotency_key == f"alert:{alert.id}")
                                ).scalars().all()
    assert (note.channel, note.recipient, note.template) == ("staff", "supervisors", "alert_fired")
    assert note.payload["path"] == f"/alerts/{alert.id}"


def test_product_burst_fires_once_then_again_after_it_cleared(seeder: Any, clock: Any) -> None:
    _burst(seeder, clock, 5)
    first = _run(clock)
    clock.advance(minutes=1)
    assert _run(clock).fired == [] and len(_alerts("product_burst")) == 1
    _burst(seeder, clock, 1, ago=timedelta(0))  # a sixth complaint: still the same condition
    assert _run(clock).fired == []
    clock.advance(hours=24)  # the first five leave the 24-hour window: only the sixth is left
    report = _run(clock)
    [cleared] = _alerts("product_burst")
    assert report.resolved == first.fired and cleared.resolved_at == clock.now() and cleared.open_key is None
    _burst(seeder, clock, 4, ago=timedelta(minutes=5))
    again = _run(clock)
    old, new = _alerts("product_burst")
    assert again.fired == [new.id] and new.condition_key == old.condition_key == "product_burst:陶瓷杯"
    assert new.resolved_at is None and db.session.execute(select(Notification).where(
        Notification.template == "alert_fired")).scalars().all().__len__() == 2


def test_complaints_older_than_24_hours_do_not_count(seeder: Any, clock: Any) -> None:
    _burst(seeder, clock, 4)
    _burst(seeder, clock, 1, ago=timedelta(hours=24, seconds=1))
    assert _run(clock).fired == []


def _delivery(seeder: Any, clock: Any, count: int, ago: timedelta, region: str = "广东") -> None:
    for _ in range(count):
        seeder.complaint(clock.now() - ago, category="delivery.late", group="tier1-logistics", region=region,
                         product=f"商品{seeder.orders}", text="快递一直没到")
    db.session.commit()


def _baseline(seeder: Any, clock: Any, per_day: int, region: str = "广东") -> None:
    for day in range(14):
        _delivery(seeder, clock, per_day, timedelta(days=1, hours=2) + timedelta(days=day), region)


def test_region_spike_needs_more_than_three_times_the_average(seeder: Any, clock: Any) -> None:
    _baseline(seeder, clock, 2)  # 28 in the 14 days before: 2 a day, so more than 6 is a spike
    _delivery(seeder, clock, 6, timedelta(hours=2))
    assert _run(clock).fired == [] and _alerts("region_delivery") == []
    _delivery(seeder, clock, 1, timedelta(hours=1))
    _run(clock)
    [alert] = _alerts("region_delivery")
    assert alert.subject == "广东" and alert.evidence["count"] == 7 and alert.evidence["daily_average"] == 2
    assert alert.evidence["baseline_count"] == 28 and len(alert.evidence["complaint_ids"]) == 7
    assert _run(clock).fired == []


def test_region_spike_needs_at_least_five(seeder: Any, clock: Any) -> None:
    _delivery(seeder, clock, 4, timedelta(hours=1))  # no baseline at all: 4 > 0, but fewer than 5
    _delivery(seeder, clock, 5, timedelta(hours=1), region="上海")
    seeder.complaint(clock.now() - timedelta(hours=1), category="product.quality", region="广东")
    db.session.commit()
    _run(clock)
    assert [a.subject for a in _alerts("region_delivery")] == ["上海"]


def test_sla_warning_then_breach_then_cleared_when_done(driver: Any, clock: Any) -> None:
    instance_id = driver.start()
    task = driver.open_tasks(instance_id)[0]
    due = task.due_at
    assert due is not None
    clock.set(due - timedelta(minutes=15, seconds=1))
    assert _run(clock).fired == []
    clock.set(due - timedelta(minutes=15))
    _run(clock)
    [soon] = _alerts("sla_due_soon")
    assert soon.subject == task.candidate_group and soon.evidence["task_ids"] == [task.task_id]
    assert soon.evidence["count"] == 1 and task.title in soon.title
    clock.advance(minutes=5)
    assert _run(clock).fired == []
    clock.set(due)
    report = _run(clock)
    [breached] = _alerts("sla_breached")
    assert report.fired == [breached.id] and report.resolved == [soon.id]
    clock.advance(hours=1)
    assert _run(clock).fired == []
    driver.complete(instance_id, task.name, {"outcome": "reply", "reply": "已处理"}, actor="xiaowang")
    assert breached.id in _run(clock).resolved


def test_late_tasks_are_one_alert_per_group_kept_up_to_date(driver: Any, clock: Any) -> None:
    first, second = driver.start(), driver.start(complaint_id="C-2")
    [task] = driver.open_tasks(first)
    [other] = driver.open_tasks(second)
    db.session.execute(update(HumanTask).where(HumanTask.task_id == other.task_id).values(candidate_group="tier2"))
    db.session.commit()
    clock.set(task.due_at + timedelta(minutes=1))
    report = _run(clock)
    breached = _alerts("sla_breached")
    assert sorted(a.subject for a in breached) == sorted([task.candidate_group, "tier2"]) and len(report.fired) == 2
    clock.advance(minutes=1)
    third = driver.start(complaint_id="C-3")  # due later than the others: breaches an hour on
    [late] = driver.open_tasks(third)
    clock.set(late.due_at + timedelta(minutes=1))
    assert _run(clock).fired == []  # the group's alert is open: its list grows, nobody is paged again
    db.session.expire_all()
    [group_alert] = [a for a in _alerts("sla_breached") if a.subject == task.candidate_group]
    assert group_alert.evidence["count"] == 2 and group_alert.evidence["task_ids"] == [task.task_id, late.task_id]
    assert "2 个任务已超时" in group_alert.title
    notified = db.session.execute(select(Notification).where(Notification.template == "alert_fired")).scalars().all()
    assert len(notified) == 2  # one per group, not one per task
    for instance_id in (first, third):
        driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "已处理"}, actor="xiaowang")
    assert _run(clock).resolved == [group_alert.id]


def test_the_customers_confirmation_window_is_not_a_staff_sla(driver: Any, clock: Any) -> None:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "已处理"}, actor="xiaowang")
    [confirm] = driver.open_tasks(instance_id)
    assert confirm.candidate_group == "customer" and confirm.due_at is not None
    clock.set(confirm.due_at - timedelta(minutes=10))
    _run(clock)
    assert _alerts("sla_due_soon") == [] and _alerts("sla_breached") == []


def test_refund_unknown_after_the_threshold_linked_to_payment_alerts(seeder: Any, clock: Any) -> None:
    complaint = seeder.complaint(clock.now() - timedelta(hours=1))
    refund = seeder.refund(complaint, "50.00", state=RefundState.UNKNOWN.value)
    payment_alert = refunds.raise_alert("state_mismatch", "gateway and Kesu disagree", refund_id=refund.id,
                                        now=clock.now())
    db.session.commit()
    clock.advance(minutes=29, seconds=59)
    assert _run(clock).fired == []
    clock.advance(seconds=1)
    _run(clock)
    [alert] = _alerts("refund_unknown")
    assert alert.evidence["refund_ids"] == [refund.id] and alert.evidence["payment_alert_ids"] == [payment_alert.id]
    assert _run(clock).fired == []
    refund.state, refund.updated_at = RefundState.SUCCEEDED.value, clock.now()  # the query found it paid
    db.session.commit()
    assert _run(clock).resolved == [alert.id]


def test_the_minute_chore_runs_the_rules_with_the_configured_thresholds(app: Any, seeder: Any, clock: Any) -> None:
    from app.worker import run_chore
    chore = app.extensions["kesu.runtime"].chores["alerts.evaluate"]
    assert chore.every_seconds == 60
    _burst(seeder, clock, 3)
    app.config["ALERT_PRODUCT_THRESHOLD"] = 3
    try:
        run_chore(app, "alerts.evaluate")
    finally:
        app.config["ALERT_PRODUCT_THRESHOLD"] = 5
    [alert] = _alerts("product_burst")
    assert alert.evidence["threshold"] == 3
