"""A supervisor can give a task only to someone who can open and work it (not an analyst or auditor)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import HumanTask
from app.services import staff, task_claims
from tests.workspace.conftest import csrf, sign_in


def test_an_auditor_or_analyst_cannot_be_given_a_task(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    boss = make_staff("boss", roles=["supervisor"])
    make_staff("audrey", roles=["auditor"])
    make_staff("nate", roles=["analyst"])
    for username in ("audrey", "nate"):
        with pytest.raises(ValidationFailed, match=rf"\({username}\) does not work tasks"):
            task_claims.reassign(task.task_id, username, who=staff.identity(boss, now=clock.now()), now=clock.now())
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee is None


def test_the_reassign_lists_offer_only_people_who_work_tasks(driver, make_staff, clock, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    make_staff("boss", roles=["supervisor"])
    make_staff("audrey", roles=["auditor"])
    make_staff("nate", roles=["analyst"])
    clock.set(task.due_at - timedelta(minutes=5))
    sign_in(client, "boss")
    for path in ("/tasks/supervisor", f"/tasks/{task.task_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<option>ann</option>" in page or 'value="ann"' in page, path
        assert "audrey" not in page and "nate" not in page, path
    page = client.get("/tasks/supervisor").get_data(as_text=True)
    answer = client.post(f"/tasks/{task.task_id}/reassign", data={"csrf_token": csrf(page), "username": "audrey"})
    assert answer.status_code == 422
    assert "does not work tasks" in answer.get_data(as_text=True)
    assert db.session.execute(select(HumanTask.assignee).where(HumanTask.id == task.id)).scalar_one() is None
