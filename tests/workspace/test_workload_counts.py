"""The supervisor's workload counts stay exactly what counting human_task would give.

task_workload is written by database triggers (migration 0090) in the same transaction as each
task write; these tests drive the real services in random orders and recount from human_task.
"""
from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import func, select, update

from app.errors import KesuError
from app.extensions import db
from app.models import HumanTask, TaskWorkload
from app.services import instance_admin, staff, task_claims, task_lists
from tests.workspace.conftest import sign_in

CATEGORIES = ("product.quality", "logistics.lost", "billing.charge", "service.attitude")


def _recounted() -> Counter[tuple[str, str]]:
    rows = db.session.execute(select(HumanTask.candidate_group, HumanTask.assignee, func.count())
                              .where(HumanTask.status == "open")
                              .group_by(HumanTask.candidate_group, HumanTask.assignee))
    return Counter({(group or "", assignee or ""): n for group, assignee, n in rows})


def _maintained() -> Counter[tuple[str, str]]:
    rows = db.session.execute(select(TaskWorkload.candidate_group, TaskWorkload.assignee, TaskWorkload.open_count))
    return Counter({(group, assignee): n for group, assignee, n in rows if n})


def _open_tasks() -> list[HumanTask]:
    return list(db.session.execute(select(HumanTask).where(HumanTask.status == "open")
                                   .order_by(HumanTask.id)).scalars())


def test_counts_follow_random_claims_unclaims_reassignments_completions_and_cancels(
        driver, make_staff, clock) -> None:
    rng = random.Random(20261122)
    instances = [driver.start(complaint_id=f"C-{n}", chosen_category=CATEGORIES[n % 4]) for n in range(8)]
    groups = sorted({t.candidate_group for t in _open_tasks() if t.candidate_group})
    agents = [make_staff(f"agent{n}", groups=groups) for n in range(4)]
    boss = make_staff("boss", roles=["supervisor"])
    who = lambda user: staff.identity(user, now=clock.now())  # noqa: E731
    moves = {
        "claim": lambda t: task_claims.claim(t.task_id, who=who(rng.choice(agents)), now=clock.now()),
        "unclaim": lambda t: task_claims.unclaim(t.task_id, who=who(boss), now=clock.now()),
        "reassign": lambda t: task_claims.reassign(t.task_id, rng.choice(agents).username, who=who(boss),
                                                   now=clock.now()),
        "complete": lambda t: task_claims.complete(t.task_id, {"outcome": "reply", "reply": "已处理"},
                                                   who=who(boss), now=clock.now()),
        "cancel": lambda t: instance_admin.cancel_instance(t.instance_id, reason="test", actor="boss",
                                                           now=clock.now()),
    }
    weights = {"claim": 5, "unclaim": 3, "reassign": 3, "complete": 2, "cancel": 1}
    done = Counter[str]()
    for step in range(80):
        tasks = [t for t in _open_tasks() if t.candidate_group != "customer"]
        if not tasks:
            instances.append(driver.start(complaint_id=f"C-extra-{step}", chosen_category=rng.choice(CATEGORIES)))
            continue
        move = rng.choices(list(weights), weights=list(weights.values()))[0]
        try:
            moves[move](rng.choice(tasks))
            done[move] += 1
        except KesuError:
            db.session.rollback()  # a refused move (e.g. unclaiming an unclaimed task) changes nothing
        else:
            db.session.commit()
        assert _maintained() == _recounted(), f"after step {step} ({move})"
    assert all(done[m] for m in ("claim", "unclaim", "reassign", "complete")), done


def test_the_supervisor_view_reads_the_counts(driver, make_staff, clock) -> None:
    first = driver.task(driver.start(complaint_id="C-1"), "handle")
    second = driver.task(driver.start(complaint_id="C-2"), "handle")
    ann = make_staff("ann", groups=[first.candidate_group])
    task_claims.claim(first.task_id, who=staff.identity(ann, now=clock.now()), now=clock.now())
    overview = task_lists.supervisor_overview(now=clock.now())
    assert overview.per_agent == [("ann", 1)]
    assert (first.candidate_group, 2, 1) in overview.per_group
    assert second.candidate_group == first.candidate_group


def test_bulk_writes_outside_the_services_are_counted_too(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    db.session.execute(update(HumanTask).where(HumanTask.id == task.id).values(candidate_group="tier2",
                                                                               assignee="zoe"))
    assert _maintained() == _recounted()
    assert task_lists.workload_per_agent() == [("zoe", 1)]
    db.session.execute(HumanTask.__table__.delete().where(HumanTask.id == task.id))
    assert _maintained() == _recounted() == Counter()


def test_breaches_beyond_the_limit_are_marked_as_more(driver, make_staff, clock, client) -> None:
    tasks = [driver.task(driver.start(complaint_id=f"C-{n}"), "handle") for n in range(3)]
    overview = task_lists.supervisor_overview(now=max(t.due_at for t in tasks), limit=2)
    assert [t.complaint_ref for t in overview.breached] == ["C-0", "C-1"] and overview.limit == 2
    make_staff("boss", roles=["supervisor"])
    sign_in(client, "boss")
    clock.set(max(t.due_at for t in tasks))
    page = client.get("/tasks/supervisor").get_data(as_text=True)
    assert "SLA breaches 已超时 (3)" in page
