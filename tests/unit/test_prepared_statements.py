"""Prepared hot statements write what Session.execute wrote, and fail the way it failed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, exc, insert, select, update

from app.extensions import db
from app.models import Timer
from app.services import prepared, processes
from app.services.uow import run_command
from tests.support.deploy import deploy_engine_files

DATA = {"text": "坏了", "emotion": "calm", "amount": 600, "order_id": "O-1"}
_TIMERS = Timer.__table__
_INSERT_TIMER = insert(_TIMERS)
_RENAME_TIMER = update(_TIMERS).where(_TIMERS.c.task_id == bindparam("b_task_id"),
                                      _TIMERS.c.status == "waiting").values(task_name=bindparam("name"))


@pytest.fixture
def instance_id(app, db_session, clock) -> int:  # type: ignore[no-untyped-def]
    deploy_engine_files(app, clock.now())
    instance = processes.start_instance("complaint_engine", dict(DATA), actor="tester", now=clock.now())
    db.session.commit()
    return instance.id


def _timer(instance_id: int, task_id: str, due, **extra):  # type: ignore[no-untyped-def]
    return {"instance_id": instance_id, "task_id": task_id, "task_name": "sla", "due_at": due, **extra}


def test_rows_read_back_as_the_session_wrote_them(instance_id, clock) -> None:  # type: ignore[no-untyped-def]
    due = clock.now() + timedelta(hours=3, microseconds=123456)
    db.session.execute(_INSERT_TIMER, _timer(instance_id, "by-session", due, status="waiting", fired_at=None))
    count, _ = prepared.execute(_INSERT_TIMER, [_timer(instance_id, f"prepared-{i}", due, status="waiting",
                                                       fired_at=None) for i in range(3)])
    db.session.commit()
    rows = db.session.execute(select(Timer.task_id, Timer.due_at, Timer.status, Timer.fired_at)
                              .where(Timer.task_id.in_(["by-session", "prepared-0", "prepared-2"]))
                              .order_by(Timer.task_id)).all()
    assert [tuple(r)[1:] for r in rows] == [(due, "waiting", None)] * 3
    assert rows[0].due_at.tzinfo is not None


def test_a_column_default_it_would_have_to_compute_goes_through_the_session(instance_id, clock) -> None:  # type: ignore[no-untyped-def]
    prepared.execute(_INSERT_TIMER, _timer(instance_id, "defaulted", clock.now()))  # no status, no fired_at
    db.session.commit()
    assert db.session.execute(select(Timer.status).where(Timer.task_id == "defaulted")).scalar_one() == "waiting"


def test_rowcount_tells_whether_the_guarded_row_matched(instance_id, clock) -> None:  # type: ignore[no-untyped-def]
    prepared.execute(_INSERT_TIMER, _timer(instance_id, "guarded", clock.now(), status="fired", fired_at=None))
    assert prepared.execute(_RENAME_TIMER, {"b_task_id": "guarded", "name": "x"})[0] == 0  # not waiting
    assert prepared.execute(_RENAME_TIMER, {"b_task_id": "nobody", "name": "x"})[0] == 0
    prepared.execute(_INSERT_TIMER, _timer(instance_id, "open", clock.now(), status="waiting", fired_at=None))
    assert prepared.execute(_RENAME_TIMER, {"b_task_id": "open", "name": "renamed"})[0] == 1
    db.session.rollback()


def test_a_constraint_violation_is_sqlalchemys_integrity_error(instance_id, clock) -> None:  # type: ignore[no-untyped-def]
    row = _timer(instance_id, "twice", clock.now(), status="waiting", fired_at=None)
    prepared.execute(_INSERT_TIMER, row)
    with pytest.raises(exc.IntegrityError) as caught:
        prepared.execute(_INSERT_TIMER, [row])
    db.session.rollback()
    assert "timer" in str(caught.value.orig).lower() or "unique" in str(caught.value.orig).lower()
    # the unit of work still tells it apart: not an event-chain race, so it is raised, not retried
    calls: list[int] = []

    def insert_twice() -> None:
        calls.append(1)
        prepared.execute(_INSERT_TIMER, row)
        prepared.execute(_INSERT_TIMER, row)
    with pytest.raises(exc.IntegrityError):
        run_command(insert_twice)
    assert calls == [1]
    assert db.session.execute(select(Timer.id).where(Timer.task_id == "twice")).first() is None


_TIMER_BY_TASK = select(_TIMERS.c.id, _TIMERS.c.task_name, _TIMERS.c.status).where(
    _TIMERS.c.task_id == bindparam("task_id")).order_by(_TIMERS.c.id).limit(1)
_TIMER_DUE = select(_TIMERS.c.task_name, _TIMERS.c.due_at).where(_TIMERS.c.task_id == bindparam("task_id"))


def test_fetch_one_reads_what_the_session_reads(instance_id, clock) -> None:  # type: ignore[no-untyped-def]
    prepared.execute(_INSERT_TIMER, _timer(instance_id, "read-me", clock.now(), status="waiting", fired_at=None))
    by_session = db.session.execute(_TIMER_BY_TASK, {"task_id": "read-me"}).first()
    assert prepared.fetch_one(_TIMER_BY_TASK, {"task_id": "read-me"}) == tuple(by_session)
    assert prepared.fetch_one(_TIMER_BY_TASK, {"task_id": "nobody"}) is None
    db.session.rollback()


def test_fetch_one_converts_columns_the_driver_cannot_give_as_they_are(instance_id, clock) -> None:  # type: ignore[no-untyped-def]
    due = clock.now() + timedelta(minutes=5)
    prepared.execute(_INSERT_TIMER, _timer(instance_id, "dated", due, status="waiting", fired_at=None))
    name, read_due = prepared.fetch_one(_TIMER_DUE, {"task_id": "dated"})
    assert (name, read_due) == ("sla", due) and read_due.tzinfo is not None  # a datetime, not SQLite's text
    db.session.rollback()
