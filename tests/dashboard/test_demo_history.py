"""The demo history fills the dashboard: closed complaints over past weeks, exact in the rollup, loaded once."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import ComplaintDaily, Payment, Refund
from app.models.complaint import Complaint
from app.services import dashboard
from app.services.complaint_facts import shop_day
from app.services.demo_history import load_demo_history


def test_history_spreads_over_past_weeks_and_keeps_the_rollup_exact(db_session: Any, clock: Any) -> None:
    assert load_demo_history(now=clock.now(), count=120) == 120
    assert load_demo_history(now=clock.now(), count=120) == 0
    days = db.session.execute(select(func.min(Complaint.created_day), func.max(Complaint.created_day))).one()
    assert (shop_day(clock.now()) - days[0]).days > 40 and days[1] <= shop_day(clock.now())
    rollup = db.session.execute(select(func.sum(ComplaintDaily.complaints), func.sum(ComplaintDaily.resolved),
                                       func.sum(ComplaintDaily.rated))).one()
    direct = db.session.execute(text("SELECT count(*), count(resolution_seconds), count(csat) FROM complaint")).one()
    assert tuple(rollup) == tuple(direct)
    everything = dashboard.DashboardFilter(days[0], days[1])
    assert dashboard.refunds(everything)["count"] == db.session.execute(select(func.count(Refund.id))).scalar() > 0
    assert dashboard.top_products(everything) and dashboard.sla_by_group(everything, now=clock.now())
    refunded = db.session.execute(select(func.sum(Refund.amount)).where(Refund.state == "reconciled")).scalar()
    assert db.session.execute(select(func.sum(Payment.amount_refunded))).scalar() == refunded
    assert all(c.created_at <= clock.now() and c.created_at > clock.now() - timedelta(weeks=8)
               for c in db.session.execute(select(Complaint)).scalars())
