"""The dashboard facts are written by the real intake and process commands, at the moment they happen."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ComplaintDaily
from app.models.complaint import Complaint
from app.models.customer import Customer
from app.services import complaints, orders
from app.services.complaints import Submission
from tests.dashboard.conftest import utc
from tests.support.complaints import ProcessDriver

REPLY = {"outcome": "reply", "reply": "您好，已为您核实并处理。"}


def _submit(clock: Any, tmp_path: Path, category: str = "product.quality") -> Complaint:
    customer = Customer(name="王五", phone="13600000003", email="w@example.com", tier="normal", created_at=clock.now())
    db.session.add(customer)
    db.session.flush()
    orders.create_order(orders.OrderInput("O-DASH-1", "王五", "13600000003", "w@example.com",
                                          [{"name": "保温杯", "qty": 1, "price": 120.0}], Decimal("120.00"), "CNY",
                                          "alipay", utc(2025, 12, 20), region="浙江"), now=clock.now())
    complaint, _ = complaints.submit(customer, Submission("O-DASH-1", category, "杯子漏水", channel="app"),
                                     upload_dir=tmp_path, now=clock.now())
    db.session.commit()
    return complaint


def _rollup() -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = db.session.execute(select(ComplaintDaily).where(ComplaintDaily.complaints > 0)).scalars()
    return {(r.day, r.category, r.handling_group, r.channel): (r.complaints, r.responded, r.response_seconds_sum,
                                                              r.resolved, r.rated, r.csat_sum, r.satisfied_72h)
            for r in rows}


def test_intake_reply_and_confirmation_write_the_facts_and_the_rollup(driver: ProcessDriver, clock: Any,
                                                                      tmp_path: Path) -> None:
    clock.set(utc(2026, 1, 4, 17, 30))  # 01:30 on 5 January in Shanghai
    complaint = _submit(clock, tmp_path)
    assert (complaint.created_day, complaint.product, complaint.region) == (date(2026, 1, 5), "保温杯", "浙江")
    assert (complaint.case_category, complaint.handling_group) == ("product.quality", "tier1-product")
    assert complaint.response_due_at == complaint.created_at + timedelta(days=1)  # p_default: P1D / P3D
    assert complaint.resolution_due_at == complaint.created_at + timedelta(days=3)
    assert complaint.first_response_at is None
    key = (date(2026, 1, 5), "product.quality", "tier1-product", "app")
    assert _rollup() == {key: (1, 0, 0, 0, 0, 0, 0)}

    clock.advance(hours=3)
    driver.complete(complaint.instance_id, "handle", REPLY, actor="xiaowang")
    db.session.refresh(complaint)
    assert complaint.first_response_at == complaint.resolved_at == clock.now()
    assert (complaint.response_seconds, complaint.resolution_seconds) == (10800, 10800)

    clock.advance(hours=1)
    driver.complete(complaint.instance_id, "confirm_resolution", {"satisfied": True, "csat": 4}, actor="customer")
    db.session.refresh(complaint)
    assert (complaint.satisfied, complaint.csat, complaint.confirmed_at) == (True, 4, clock.now())
    assert _rollup() == {key: (1, 1, 10800, 1, 1, 4, 1)}


def test_triage_moves_the_complaint_to_its_corrected_category(driver: ProcessDriver, clock: Any,
                                                              tmp_path: Path) -> None:
    driver.classifier.needs_triage = True
    complaint = _submit(clock, tmp_path)
    assert complaint.handling_group is None
    driver.complete(complaint.instance_id, "triage", {"category": "delivery.damaged"}, actor="xiaowang")
    db.session.refresh(complaint)
    assert (complaint.category, complaint.case_category) == ("product.quality", "delivery.damaged")
    assert complaint.handling_group == "tier1-logistics"
    assert list(_rollup()) == [(complaint.created_day, "delivery.damaged", "tier1-logistics", "app")]


def test_no_confirmation_in_72_hours_leaves_no_rating(driver: ProcessDriver, clock: Any, tmp_path: Path) -> None:
    complaint = _submit(clock, tmp_path)
    driver.complete(complaint.instance_id, "handle", REPLY, actor="xiaowang")
    complaint_id = complaint.id
    driver.advance(hours=73)  # the worker fires the 72 h timer in its own session
    db.session.expire_all()
    complaint = db.session.get(Complaint, complaint_id)
    assert complaint.resolved_at is not None
    assert (complaint.satisfied, complaint.csat, complaint.confirmed_at) == (None, None, None)
    [(_, counts)] = _rollup().items()
    assert counts[3:] == (1, 0, 0, 0)  # resolved, not rated, not confirmed satisfied
