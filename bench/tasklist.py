"""Time the agent workspace's task lists on a database holding N complaints' tasks.

    .venv/bin/python bench/tasklist.py [--n 1000000]      (PostgreSQL when DATABASE_URL is set)

Fills process_instance and human_task with Core executemany in batches (no engine: the
lists read only the projection), most tasks completed as in a working shop, 5% open over
seven groups, then times the group queue (by priority and by SLA due time), my tasks and the
supervisor view through the workspace services (p50/p95 over 200 queries each). Last line: JSON.
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import insert  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import GROUPS, HumanTask, ProcessDefinition, ProcessInstance  # noqa: E402
from app.services import task_lists  # noqa: E402
from app.services.staff import Identity  # noqa: E402
from bench._common import bench_app, timed  # noqa: E402

BATCH, QUERIES, AGENTS = 20_000, 200, 200
CATEGORIES = ("product.quality", "logistics.lost", "billing.charge", "service.attitude")


def _rows(start: int, stop: int, now: Any, rng: random.Random) -> tuple[list[dict], list[dict]]:
    instances, tasks = [], []
    for i in range(start, stop):
        created = now - timedelta(minutes=i % 100_000)
        is_open = rng.random() < 0.05
        agent = f"agent{rng.randrange(AGENTS)}"
        assignee = agent if is_open and rng.random() < 0.5 else None if is_open else agent
        instances.append({"id": i, "definition_id": 1, "process_id": "complaint_handling", "status": "running",
                          "created_at": created, "updated_at": created, "event_seq": 0, "event_head": "0" * 64,
                          "version": 1})
        tasks.append({"id": i, "task_id": f"{i:036d}", "instance_id": i, "process_id": "complaint_handling",
                      "name": "handle", "title": "Handle complaint", "candidate_group": GROUPS[i % 5],
                      "assignee": assignee, "status": "open" if is_open else "completed",
                      "priority": rng.choice((1, 2, 2, 3)), "due_at": created + timedelta(hours=24),
                      "created_at": created, "completed_at": None if is_open else created + timedelta(hours=2),
                      "completed_by": None if is_open else agent, "category": rng.choice(CATEGORIES),
                      "emotion": "calm", "order_amount": 99.0, "customer": f"cust-{i % 50_000}",
                      "complaint_ref": f"C-{i}"})
    return instances, tasks


def fill(n: int, now: Any) -> None:
    """Insert one definition and n instances with one handling task each."""
    db.session.execute(insert(ProcessDefinition.__table__), [{
        "id": 1, "version": 1, "content_hash": "0" * 64, "process_ids": ["complaint_handling"],
        "deployed_by": "bench", "deployed_at": now}])
    rng = random.Random(7)
    for start in range(1, n + 1, BATCH):
        instances, tasks = _rows(start, min(start + BATCH, n + 1), now, rng)
        db.session.execute(insert(ProcessInstance.__table__), instances)
        db.session.execute(insert(HumanTask.__table__), tasks)
        db.session.commit()
    db.session.execute(db.text("ANALYZE"))  # fresh statistics, as a live database has
    db.session.commit()



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="complaints (one task each)")
    args = parser.parse_args()
    app, clock = bench_app("tasklist")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        started = time.perf_counter()
        fill(args.n, clock.now())
        filled = time.perf_counter() - started
        agent = lambda k: Identity(f"agent{k % AGENTS}", (f"agent{k % AGENTS}",), (GROUPS[k % 5],), False)  # noqa: E731
        turn = itertools.count()  # each timed call asks as the next agent
        results = {
            "group_queue": timed(lambda: task_lists.list_tasks(agent(next(turn)), task_lists.TaskQuery("queue")), QUERIES),
            "group_queue_by_due": timed(lambda: task_lists.list_tasks(agent(next(turn)), task_lists.TaskQuery(
                "queue", sort="due")), QUERIES),
            "my_tasks": timed(lambda: task_lists.list_tasks(agent(next(turn)), task_lists.TaskQuery("mine")), QUERIES),
            "supervisor": timed(lambda: task_lists.supervisor_overview(now=clock.now()), QUERIES),
        }
        db.session.remove()
    print(f"filled {args.n} complaints' tasks in {filled:.1f} s on {url.split(':')[0]}")
    for name, numbers in results.items():
        print(f"{name:18s} p50 {numbers['p50_ms']:7.2f} ms   p95 {numbers['p95_ms']:7.2f} ms")
    print(json.dumps({"n": args.n, "database": url.split(":")[0], "fill_seconds": round(filled, 1), **results}))


if __name__ == "__main__":
    main()
