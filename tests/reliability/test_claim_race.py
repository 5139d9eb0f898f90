"""Sixteen agents claim one task at the same moment: exactly one wins, the others see who."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.errors import KesuError
from app.extensions import db
from app.models import HumanTask, User
from app.services import staff, task_claims
from app.services.uow import run_command
from tests.support.complaints import ProcessDriver

pytestmark = pytest.mark.slow
AGENTS = 16


def test_sixteen_concurrent_claims_have_exactly_one_winner(committed_app) -> None:
    app = committed_app
    clock = app.extensions["kesu.runtime"].clock
    with app.app_context():
        driver = ProcessDriver(app, clock)
        task = driver.task(driver.start(), "handle")
        task_id, group, now = task.task_id, task.candidate_group, clock.now()
        for n in range(AGENTS):
            db.session.add(User(username=f"agent{n}", display_name=f"A{n}", password_hash="-", roles=["agent"],
                                groups=[group], created_at=now))
        db.session.commit()
        agents = [staff.identity(user, now=now) for user in db.session.execute(select(User)).scalars()]
        driver.restore()
        db.session.remove()

    barrier, outcomes = threading.Barrier(AGENTS), []

    def agent(n: int) -> None:
        with app.app_context():
            who = agents[n]
            barrier.wait()
            try:
                run_command(lambda: task_claims.claim(task_id, who=who, now=now))
                outcomes.append(("won", who.username))
            except KesuError as error:
                outcomes.append(("lost", error.message))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(AGENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [who for kind, who in outcomes if kind == "won"]
    assert len(outcomes) == AGENTS and len(winners) == 1, outcomes
    assert all(message == f"already claimed by {winners[0]}" for kind, message in outcomes if kind == "lost"), outcomes
    with app.app_context():
        assert db.session.execute(select(HumanTask.assignee).where(HumanTask.task_id == task_id)).scalar_one() \
            == winners[0]
