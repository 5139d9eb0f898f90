"""The task page's "earlier complaints" are the customer's complaints from before this one."""
from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.services import task_page
from tests.dashboard.conftest import Seeder, seeder  # noqa: F401


def test_only_complaints_made_before_this_one_are_listed(seeder: Seeder, clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    now = clock.now()
    first = seeder.complaint(now - timedelta(days=30), text="第一次")
    same_time = seeder.complaint(now - timedelta(days=2), text="同一时刻 A")
    current = seeder.complaint(now - timedelta(days=2), text="同一时刻 B")
    later = seeder.complaint(now - timedelta(days=1), text="之后")
    db.session.commit()
    assert current.id > same_time.id
    assert [c.id for c in task_page._earlier(current)] == [same_time.id, first.id]
    assert later.id not in [c.id for c in task_page._earlier(first)]
    assert task_page._earlier(first) == []
