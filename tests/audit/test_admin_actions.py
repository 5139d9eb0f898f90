"""Claims, unclaims, reassignments and API tokens go to the system chain with before/after."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessEvent, User
from app.services import api_tokens, audit, processes, task_claims, task_work
from app.services.staff import Identity
from tests.support.complaints import ProcessDriver


def _system(event_type: str) -> list[tuple[str | None, dict[str, Any]]]:
    rows = db.session.execute(select(ProcessEvent).where(ProcessEvent.stream == "system",
                                                         ProcessEvent.event_type == event_type)
                              .order_by(ProcessEvent.seq)).scalars()
    return [(r.actor, json.loads(r.payload)) for r in rows]


def _staff(clock, name: str, roles: list[str]) -> User:  # type: ignore[no-untyped-def]
    user = User(username=name, display_name=name, roles=roles, groups=["tier1-product"], created_at=clock.now())
    user.set_password("correct horse")
    db.session.add(user)
    db.session.flush()
    return user


def test_claim_unclaim_and_reassign_are_recorded_with_before_and_after(driver: ProcessDriver, clock) -> None:
    instance_id = driver.start()
    task = driver.task(instance_id, "handle")
    _staff(clock, "xiaowang", ["agent"])
    boss = _staff(clock, "zhuguan", ["supervisor"])
    processes.claim_task(task.task_id, user="xiaowang", now=clock.now())
    processes.claim_task(task.task_id, user="xiaowang", now=clock.now())  # already hers: nothing changes
    supervisor = Identity("zhuguan", ("zhuguan",), ("supervisors",), True)
    task_claims.reassign(task.task_id, "zhuguan", who=supervisor, now=clock.now())
    task_claims.unclaim(task.task_id, who=supervisor, now=clock.now())
    processes.claim_task(task.task_id, user="xiaowang", now=clock.now())
    task_work.unclaim(task.task_id, user=boss, now=clock.now())
    assert [(actor, p["before"], p["after"]) for actor, p in _system("task.claimed")] == [
        ("xiaowang", {"assignee": None}, {"assignee": "xiaowang"})] * 2
    assert [(actor, p["before"], p["after"]) for actor, p in _system("task.reassigned")] == [
        ("zhuguan", {"assignee": "xiaowang"}, {"assignee": "zhuguan"})]
    assert [(actor, p["before"], p["after"]) for actor, p in _system("task.unclaimed")] == [
        ("zhuguan", {"assignee": "zhuguan"}, {"assignee": None}), ("zhuguan", {"assignee": "xiaowang"}, {"assignee": None})]
    assert _system("task.claimed")[0][1]["task_name"] == "handle" and audit.verify_chains().intact


def test_api_token_creation_and_revocation_are_recorded(cli_runner, clock) -> None:
    _staff(clock, "xiaowang", ["agent"])
    db.session.commit()
    result = cli_runner.invoke(args=["users", "token", "xiaowang", "--name", "laptop"])
    assert result.exit_code == 0, result.output
    [(actor, created)] = _system("api_token.created")
    assert (actor, created["user"], created["name"], created["before"]) == ("xiaowang", "xiaowang", "laptop", None)
    assert "kesu_" not in json.dumps(created)
    api_tokens.revoke_token(created["token_id"], now=clock.now(), actor="admin")
    api_tokens.revoke_token(created["token_id"], now=clock.now(), actor="admin")
    assert [(a, p["before"], p["after"]) for a, p in _system("api_token.revoked")] == [
        ("admin", {"revoked": False}, {"revoked": True})]
