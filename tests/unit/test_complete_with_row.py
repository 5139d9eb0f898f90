"""Completing with the task row the caller already read: one read less, the same guarantees."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.errors import TaskAlreadyCompleted
from app.extensions import db
from app.models import HumanTask
from app.services import processes
from tests.support.deploy import deploy_engine_files

DATA = {"text": "坏了", "emotion": "calm", "amount": 600, "order_id": "O-1"}
FORM = {"outcome": "reply", "reply": "已为您处理"}


@pytest.fixture
def definition(app, db_session, clock):  # type: ignore[no-untyped-def]
    return deploy_engine_files(app, clock.now())


def _open_task(clock) -> HumanTask:  # type: ignore[no-untyped-def]
    instance = processes.start_instance("complaint_engine", dict(DATA), actor="tester", now=clock.now())
    db.session.commit()
    return db.session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id)).scalar_one()


def _task_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and "human_task" in s]


def test_a_given_row_is_not_read_again(definition, clock) -> None:  # type: ignore[no-untyped-def]
    task = _open_task(clock)
    statements: list[str] = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        instance = processes.complete_task(task.task_id, dict(FORM), actor="xiaowang", now=clock.now(), task=task)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert instance.status == "completed" and _task_reads(statements) == []
    db.session.refresh(task)
    assert (task.status, task.completed_by) == ("completed", "xiaowang")


def test_a_stale_row_still_loses_to_the_completion_that_won(definition, clock) -> None:  # type: ignore[no-untyped-def]
    task = _open_task(clock)
    stale = db.session.execute(select(HumanTask.task_id, HumanTask.instance_id, HumanTask.status,
                                      HumanTask.completed_by).where(HumanTask.task_id == task.task_id)).one()
    processes.complete_task(task.task_id, dict(FORM), actor="xiaowang", now=clock.now())
    db.session.commit()
    assert stale.status == "open"  # what the second caller read before the first one finished
    with pytest.raises(TaskAlreadyCompleted, match="already completed"):
        processes.complete_task(task.task_id, {**FORM, "reply": "再次"}, actor="xiaoli", now=clock.now(), task=stale)
    db.session.rollback()
    db.session.refresh(task)
    assert (task.status, task.completed_by) == ("completed", "xiaowang")
