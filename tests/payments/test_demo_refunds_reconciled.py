"""The demo history's refunds are settled: the payments chore asks the gateway about none and alerts nobody."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import Job, Refund
from app.services.demo_history import load_demo_history
from app.services.payment_tasks import reconcile


def test_reconciliation_leaves_the_demo_history_alone(app: Any, db_session: Any, clock: Any) -> None:
    assert load_demo_history(now=clock.now(), count=120) == 120
    states = dict(db.session.execute(select(Refund.state, func.count(Refund.id)).group_by(Refund.state)).all())
    assert states.get("reconciled", 0) > 0 and set(states) <= {"reconciled", "failed"}
    with app.app_context():
        assert reconcile(clock.now()) == 0
    assert db.session.execute(select(func.count(Job.id))).scalar() == 0
