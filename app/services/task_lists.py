"""The agent workspace's task lists: each one indexed query, keyset-paged, with filters and sorts.

Lists: ``mine`` (claimed by me or by someone I stand in for), ``queue`` (unclaimed tasks of my
groups), ``team`` (every open task; supervisors), ``done`` (completed by me). A page ends with
a cursor holding the last row's sort values; the next page continues after it (no OFFSET).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import ColumnElement, Select, case, func, literal, select, tuple_, union_all

from app.classification.taxonomy import CATEGORIES, EMOTIONS
from app.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import GROUPS, Customer, HumanTask, TaskStatus, TaskWorkload
from app.services.complaint_facts import CUSTOMER_GROUP
from app.services.staff import Identity
from app.services.task_work import STAFF_WORK

PAGE_SIZE = 25
OPEN = TaskStatus.OPEN.value
# The customer's own tasks (confirm the resolution) are worked in the portal, never by staff: no staff list
# shows them and no staff workload counts them (the task page still shows a supervisor the complaint waits).
STAFF_WORKLOAD = TaskWorkload.candidate_group != CUSTOMER_GROUP
LISTS: dict[str, Callable[[Identity], ColumnElement[bool]]] = {
    "mine": lambda who: (HumanTask.assignee.in_(who.usernames)) & (HumanTask.status == OPEN) & STAFF_WORK,
    "queue": lambda who: (HumanTask.candidate_group.in_(who.groups)) & (HumanTask.status == OPEN)
    & HumanTask.assignee.is_(None) & STAFF_WORK,
    "team": lambda who: (HumanTask.status == OPEN) & STAFF_WORK,
    "done": lambda who: (HumanTask.completed_by == who.username)
    & (HumanTask.status == TaskStatus.COMPLETED.value),
}
SUPERVISOR_LISTS = ("team",)
# Columns a list pins with IS NULL, named first in its ORDER BY (a no-op: they hold one value). PostgreSQL
# treats `col = x` as constant when matching an index to ORDER BY but not `col IS NULL`; without this it
# would fetch and sort a whole group's unclaimed tasks instead of reading the first rows of the index.
PINNED: dict[str, tuple[Any, ...]] = {"queue": (HumanTask.assignee,)}
# sort name -> (columns, descending); the last column is always the unique id
SORTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "priority": ((HumanTask.priority, HumanTask.created_at, HumanTask.id), False),
    "oldest": ((HumanTask.created_at, HumanTask.id), False),
    "newest": ((HumanTask.created_at, HumanTask.id), True),
    "done": ((HumanTask.completed_at, HumanTask.id), True),
    "due": ((HumanTask.due_at, HumanTask.id), False),  # SLA due time, tasks without an SLA last
}
OPEN_SORTS = ("priority", "due", "oldest", "newest")  # what the open lists offer; done is by completion
FILTERS = {"category": HumanTask.category, "emotion": HumanTask.emotion, "group": HumanTask.candidate_group}
PRIORITY_NAMES = {1: "high", 2: "medium", 3: "low"}


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """Return the values each filter offers, with labels: the 13 categories, the three emotions, the groups."""
    return {"category": [(c.code, c.label()) for c in CATEGORIES],
            "emotion": [(e.code, e.label()) for e in EMOTIONS],
            "group": [(group, group) for group in GROUPS]}


@dataclass(frozen=True)
class TaskQuery:
    """What a list page asked for, parsed from its query string."""

    list_name: str = "queue"
    sort: str = "priority"
    filters: dict[str, str] = field(default_factory=dict)
    priority: int | None = None
    after: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TaskQuery:
        list_name = args.get("list", "queue")
        problems = {}
        if list_name not in LISTS:
            problems["list"] = f"choose one of {', '.join(LISTS)}"
        sort = "done" if list_name == "done" else args.get("sort", "priority")
        if list_name != "done" and sort not in OPEN_SORTS:
            problems["sort"] = f"choose one of {', '.join(OPEN_SORTS)}"
        priority = {v: k for k, v in PRIORITY_NAMES.items()}.get(args.get("priority", ""))
        if args.get("priority") and priority is None:
            problems["priority"] = "choose high, medium or low"
        choices = filter_choices()
        for name in FILTERS:  # an unknown value would only show an empty list, as if nothing matched
            known = [code for code, _label in choices.get(name, [])]
            if args.get(name) and known and args[name] not in known:
                problems[name] = f"choose one of {', '.join(known)}"
        if problems:
            raise ValidationFailed("the task list cannot be shown", fields=problems)
        filters = {k: args[k] for k in FILTERS if args.get(k)}
        return cls(list_name, sort, filters, priority, args.get("after") or None)


@dataclass(frozen=True)
class TaskPage:
    rows: list[HumanTask]
    next_cursor: str | None


def customer_names(rows: list[HumanTask]) -> dict[str, str]:
    """Names of the portal customers on a page of tasks, by the id their complaints carry (one PK lookup).

    A task row keeps what the process was given as its customer: a portal customer's numeric id
    (its name stays in the customers table, where erasure can reach it) or an external reference.
    """
    ids = {int(row.customer) for row in rows if row.customer and row.customer.isdigit()}
    if not ids:
        return {}
    return {str(cid): name for cid, name in db.session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(ids)))}


def list_tasks(who: Identity, query: TaskQuery, *, limit: int = PAGE_SIZE) -> TaskPage:
    """Return one page of a list, in its sort order, after the query's cursor."""
    if query.list_name in SUPERVISOR_LISTS and not who.is_supervisor:
        raise PermissionDenied("the team list is for supervisors; use My tasks or My groups' queue")
    columns, descending = SORTS[query.sort]
    statement = _filtered(select(HumanTask).where(LISTS[query.list_name](who)), query)
    pinned = PINNED.get(query.list_name, ())
    if query.sort == "due":
        return _due_page(statement, query.after, limit, pinned)
    if query.after:
        key = tuple_(*columns)
        values = [literal(v, c.type) for v, c in zip(_decode(query.after, columns), columns)]
        statement = statement.where(key < tuple_(*values) if descending else key > tuple_(*values))
    order = [c.desc() for c in columns] if descending else list(columns)
    rows = list(db.session.execute(statement.order_by(*pinned, *order).limit(limit + 1)).scalars())
    cursor = _encode(rows[limit - 1], columns) if len(rows) > limit else None
    return TaskPage(rows[:limit], cursor)


def _due_page(statement: Select[Any], after: str | None, limit: int, pinned: tuple[Any, ...]) -> TaskPage:
    """Page by (due_at, id) with tasks that have no SLA after the rest, in one statement.

    Tuple comparison cannot step past NULLs, so the page is the union of two index range reads,
    each with its LIMIT: the dated tasks after the cursor, then the undated ones after it.
    """
    due, last_id = _decode(after, SORTS["due"][0]) if after else (None, None)
    in_order = (*pinned, HumanTask.due_at, HumanTask.id)  # due_at too: constant (NULL) in the undated part
    undated = statement.where(HumanTask.due_at.is_(None)).order_by(*in_order).limit(limit + 1)
    if last_id is not None:
        undated = undated.where(HumanTask.id > last_id)
    parts = [undated]
    if due is not None or last_id is None:
        dated = statement.where(HumanTask.due_at.is_not(None))
        if due is not None:
            dated = dated.where(tuple_(HumanTask.due_at, HumanTask.id)
                                > tuple_(literal(due, HumanTask.due_at.type), literal(last_id)))
        parts.insert(0, dated.order_by(*in_order).limit(limit + 1))
    page = union_all(*(select(part.with_only_columns(HumanTask.id, HumanTask.due_at).subquery())
                       for part in parts)).subquery()
    rows = list(db.session.execute(
        select(HumanTask).join(page, HumanTask.id == page.c.id)
        .order_by(page.c.due_at.is_(None), page.c.due_at, page.c.id).limit(limit + 1)).scalars())
    cursor = _encode(rows[limit - 1], SORTS["due"][0]) if len(rows) > limit else None
    return TaskPage(rows[:limit], cursor)


def _filtered(statement: Select[Any], query: TaskQuery) -> Select[Any]:
    for name, value in query.filters.items():
        statement = statement.where(FILTERS[name] == value)
    if query.priority is not None:
        statement = statement.where(HumanTask.priority == query.priority)
    return statement


def _encode(row: HumanTask, columns: tuple[Any, ...]) -> str:
    values = [getattr(row, column.key) for column in columns]
    return "~".join(v.isoformat() if isinstance(v, datetime) else "-" if v is None else str(v) for v in values)


def _decode(cursor: str, columns: tuple[Any, ...]) -> list[Any]:
    parts = cursor.split("~")
    try:
        if len(parts) != len(columns):
            raise ValueError(cursor)
        return [_parse(part, column.key) for part, column in zip(parts, columns)]
    except ValueError:
        raise ValidationFailed("the page cursor is not valid",
                               fields={"after": "start again from the first page"}) from None


def _parse(text: str, key: str) -> Any:
    if text == "-" and key == "due_at":
        return None
    return datetime.fromisoformat(text) if key.endswith("_at") else int(text)


def sla_state(task: HumanTask, *, now: datetime) -> str:
    """Return ok, amber (half the time used), red (four fifths used) or breached."""
    if task.due_at is None or task.status != OPEN:
        return "none"
    remaining, window = task.due_at - now, task.due_at - task.created_at
    if remaining <= timedelta(0):
        return "breached"
    used = 1 - remaining / window if window > timedelta(0) else 1.0
    return "red" if used >= 0.8 else "amber" if used >= 0.5 else "ok"


NEAR_BREACH_CHOICES = (15, 60, 240)  # minutes a supervisor may pick for "near breach" (with the configured one)


def near_breach_minutes(choice: str | None, *, configured: int) -> tuple[int, list[int]]:
    """Return the near-breach window asked for (the configured one if none) and the windows offered."""
    offered = sorted({*NEAR_BREACH_CHOICES, configured})
    if not choice:
        return configured, offered
    if not choice.isdigit() or int(choice) not in offered:
        raise ValidationFailed("the supervisor view cannot be shown", fields={
            "near": f"choose one of {', '.join(map(str, offered))} minutes"})
    return int(choice), offered


@dataclass(frozen=True)
class Overview:
    """The supervisor's picture: breaches, near-breaches and the open work per agent and group."""

    breached: list[HumanTask]
    near_breach: list[HumanTask]
    per_agent: list[tuple[str, int]]
    per_group: list[tuple[str, int, int]]  # group, open, unclaimed
    limit: int  # breaches and near-breaches shown at most (the most urgent)
    near: timedelta = timedelta(hours=1)  # the near-breach window shown


def supervisor_overview(*, now: datetime, near: timedelta = timedelta(hours=1), limit: int = 50) -> Overview:
    """Return SLA breaches (due before now), near-breaches (due within ``near``) and workloads.

    Breaches are two range reads of the (status, due_at, id) index with a LIMIT; workloads come
    from ``task_workload``, which database triggers keep exact, so nothing counts open tasks here.
    """
    due = select(HumanTask).where(HumanTask.status == OPEN, STAFF_WORK).order_by(HumanTask.due_at, HumanTask.id).limit(limit)
    breached = db.session.execute(due.where(HumanTask.due_at <= now))
    soon = db.session.execute(due.where(HumanTask.due_at > now, HumanTask.due_at <= now + near))
    return Overview(list(breached.scalars()), list(soon.scalars()), workload_per_agent(), workload_per_group(), limit,
                    near)


def workload_per_agent() -> list[tuple[str, int]]:
    """Return (agent, open tasks claimed by them), busiest first."""
    total = func.sum(TaskWorkload.open_count)
    rows = db.session.execute(select(TaskWorkload.assignee, total).where(TaskWorkload.assignee != "", STAFF_WORKLOAD)
                              .group_by(TaskWorkload.assignee).having(total > 0)
                              .order_by(total.desc(), TaskWorkload.assignee))
    return [(agent, int(n)) for agent, n in rows]


def workload_per_group() -> list[tuple[str, int, int]]:
    """Return (group, open tasks, of which unclaimed) per group; '-' for tasks without a group."""
    total = func.sum(TaskWorkload.open_count)
    unclaimed = func.sum(case((TaskWorkload.assignee == "", TaskWorkload.open_count), else_=0))
    rows = db.session.execute(select(TaskWorkload.candidate_group, total, unclaimed).where(STAFF_WORKLOAD)
                              .group_by(TaskWorkload.candidate_group).having(total > 0)
                              .order_by(TaskWorkload.candidate_group))
    return [(group or "-", int(n), int(u)) for group, n, u in rows]
