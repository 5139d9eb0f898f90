"""Task lists: who sees what, the denormalised columns, filters, keyset paging, the supervisor view."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import HumanTask
from app.services import staff, task_claims, task_lists
from app.services.task_lists import TaskQuery
from tests.workspace.conftest import csrf, sign_in


def _who(user, clock):  # type: ignore[no-untyped-def]
    return staff.identity(user, now=clock.now())


def _walk(who, sort: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Read the whole queue two rows a page, following the cursors; return the complaint refs seen."""
    seen, cursor = [], None
    while True:
        page = task_lists.list_tasks(who, TaskQuery("queue", sort=sort, after=cursor), limit=2)
        seen += [t.complaint_ref for t in page.rows]
        if not (cursor := page.next_cursor):
            return seen


def test_a_handling_task_carries_what_the_list_shows(driver, make_staff, clock) -> None:
    instance_id = driver.start(customer_id="cust-7", amount_paid=88.5)
    task = driver.task(instance_id, "handle")
    assert (task.category, task.emotion, task.order_amount, task.customer, task.complaint_ref) == (
        "product.quality", "calm", 88.5, "cust-7", "C-1001")
    agent = make_staff("ann", groups=[task.candidate_group])
    page = task_lists.list_tasks(_who(agent, clock), TaskQuery("queue"))
    assert [t.task_id for t in page.rows] == [task.task_id]


def test_an_agent_sees_only_their_groups_tasks(driver, make_staff, clock, client) -> None:
    task = driver.task(driver.start(), "handle")
    outsider = make_staff("bob", groups=["tier1-billing"])
    assert task.candidate_group != "tier1-billing"
    assert task_lists.list_tasks(_who(outsider, clock), TaskQuery("queue")).rows == []
    sign_in(client, "bob")
    page = client.get(f"/tasks/{task.task_id}")
    assert page.status_code == 403
    assert f"this task is for group &#39;{task.candidate_group}&#39; and you are not in it" in page.get_data(as_text=True)


def test_a_membership_change_reaches_open_tasks_at_once(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    agent = make_staff("cid", groups=[])
    assert task_lists.list_tasks(_who(agent, clock), TaskQuery("queue")).rows == []
    staff.update_staff("cid", roles=["agent"], groups=[task.candidate_group], is_active=True, actor="root",
                       now=clock.now())
    assert len(task_lists.list_tasks(_who(agent, clock), TaskQuery("queue")).rows) == 1


def test_people_without_a_staff_role_cannot_reach_tasks(client, make_staff) -> None:
    assert client.get("/tasks").status_code == 302  # anonymous (customers sign in elsewhere): to /login
    make_staff("ana", roles=["analyst"])
    sign_in(client, "ana")
    page = client.get("/tasks")
    assert page.status_code == 403
    assert "this page is for agent or expert or qa or supervisor or finance staff" in page.get_data(as_text=True)


def test_keyset_pages_walk_the_queue_without_repeats(driver, make_staff, clock) -> None:
    group = None
    for n in range(5):
        group = driver.task(driver.start(complaint_id=f"C-{n}"), "handle").candidate_group
        clock.advance(minutes=1)
    who = _who(make_staff("dee", groups=[group]), clock)
    assert _walk(who, "oldest") == [f"C-{n}" for n in range(5)]


def test_filters_narrow_the_list(driver, make_staff, clock) -> None:
    driver.classifier.emotion = "angry"
    group = driver.task(driver.start(complaint_id="C-a"), "handle").candidate_group
    driver.classifier.emotion = "calm"
    driver.start(complaint_id="C-b")
    who = _who(make_staff("eve", groups=[group]), clock)
    rows = task_lists.list_tasks(who, TaskQuery.from_args({"list": "queue", "emotion": "angry"})).rows
    assert [t.complaint_ref for t in rows] == ["C-a"]


@pytest.mark.parametrize("args, field, message", [
    ({"list": "everything"}, "list", "choose one of mine, queue, team, done"),
    ({"sort": "random"}, "sort", "choose one of priority, due, oldest, newest"),
    ({"priority": "urgent"}, "priority", "choose high, medium or low"),
    ({"after": "garbage"}, "after", "start again from the first page"),
    ({"category": "product"}, "category", "choose one of "),
    ({"emotion": "furious"}, "emotion", "choose one of calm, "),
    ({"group": "nobody-group"}, "group", "choose one of "),
])
def test_bad_list_parameters_are_refused_with_a_message(make_staff, clock, args, field, message) -> None:
    who = _who(make_staff("fay"), clock)
    with pytest.raises(ValidationFailed) as error:
        task_lists.list_tasks(who, TaskQuery.from_args(args))
    assert error.value.fields[field].startswith(message)


def test_the_team_list_is_for_supervisors(make_staff, clock) -> None:
    with pytest.raises(PermissionDenied, match="the team list is for supervisors"):
        task_lists.list_tasks(_who(make_staff("gus"), clock), TaskQuery("team"))


def test_the_list_page_renders_and_refreshes_its_rows(driver, make_staff, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("hal", groups=[task.candidate_group])
    sign_in(client, "hal")
    page = client.get("/tasks?list=queue").get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in page and "C-1001" in page and "<html" in page
    rows = client.get("/tasks?list=queue", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "C-1001" in rows and "<html" not in rows


def test_sla_turns_amber_then_red_then_breached(driver, clock) -> None:
    task = driver.task(driver.start(), "handle")
    assert task.due_at is not None
    window = task.due_at - task.created_at
    states = []
    for used in (0.1, 0.6, 0.9, 1.1):
        states.append(task_lists.sla_state(task, now=task.created_at + window * used))
    assert states == ["ok", "amber", "red", "breached"]


def test_supervisor_sees_breaches_and_workload(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    overview = task_lists.supervisor_overview(now=task.due_at + timedelta(minutes=1))
    assert [t.task_id for t in overview.breached] == [task.task_id]
    assert (task.candidate_group, 1, 1) in overview.per_group


def test_sorting_by_sla_due_time_pages_dated_tasks_first_then_those_without_an_sla(
        driver, make_staff, clock) -> None:
    tasks = []
    for n in range(5):
        tasks.append(driver.task(driver.start(complaint_id=f"C-{n}"), "handle"))
        clock.advance(minutes=1)
    db.session.execute(update(HumanTask).where(HumanTask.id.in_([tasks[1].id, tasks[3].id])).values(due_at=None))
    db.session.execute(update(HumanTask).where(HumanTask.id == tasks[4].id)
                       .values(due_at=tasks[0].due_at - timedelta(hours=1)))
    who = _who(make_staff("ida", groups=[tasks[0].candidate_group]), clock)
    assert _walk(who, "due") == ["C-4", "C-0", "C-2", "C-1", "C-3"]
    boss = _who(make_staff("boss", roles=["supervisor"]), clock)
    first = task_lists.list_tasks(boss, TaskQuery.from_args({"list": "team", "sort": "due"}), limit=3)
    assert [t.complaint_ref for t in first.rows] == ["C-4", "C-0", "C-2"] and first.next_cursor


def test_the_filters_offer_categories_emotions_and_groups_and_narrow_the_page(driver, make_staff, client) -> None:
    product = driver.task(driver.start(complaint_id="C-p", chosen_category="product.quality"), "handle")
    billing = driver.task(driver.start(complaint_id="C-b", chosen_category="order.payment"), "handle")
    assert product.candidate_group != billing.candidate_group
    make_staff("jo", groups=[product.candidate_group, billing.candidate_group])
    sign_in(client, "jo")
    page = client.get(f"/tasks?list=queue&group={billing.candidate_group}").get_data(as_text=True)
    assert '<option value="delivery.damaged" >' in page and '<option value="angry" >' in page
    assert f'<option value="{billing.candidate_group}" selected>' in page
    assert "C-b" in page and "C-p" not in page


def test_leaving_a_group_or_being_deactivated_gives_held_tasks_back_at_once(driver, make_staff, clock, client) -> None:
    first = driver.task(driver.start(complaint_id="C-1"), "handle")
    second = driver.task(driver.start(complaint_id="C-2", chosen_category="order.payment"), "handle")
    ann = make_staff("ann", groups=[first.candidate_group, second.candidate_group])
    for task in (first, second):
        task_claims.claim(task.task_id, who=_who(ann, clock), now=clock.now())
    make_staff("root", roles=["admin"])
    sign_in(client, "root")
    page = client.get("/admin/users").get_data(as_text=True)
    answer = client.post("/admin/users/ann", data={"csrf_token": csrf(page), "roles": ["agent"],
                                                   "groups": [first.candidate_group], "active": "on"},
                         follow_redirects=True)
    assert "1 task(s) they held went back to their group&#39;s queue" in answer.get_data(as_text=True)
    assert (driver.task(first.instance_id, "handle").assignee, driver.task(second.instance_id, "handle").assignee) \
        == ("ann", None)
    _, released = staff.update_staff("ann", roles=["agent"], groups=[first.candidate_group], is_active=False,
                                     actor="root", now=clock.now())
    assert released == 1 and driver.task(first.instance_id, "handle").assignee is None
    assert task_lists.workload_per_agent() == []
