"""Who may see a task: one rule (`task_work.may_view`) for the task page and `GET /api/v1/tasks/<id>`.

A task the caller may not see is a 404 in the API worded exactly like a missing id (the id is not
confirmed); claim, unclaim and complete through the API check the same rule first.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.extensions import db
from app.models import HumanTask
from app.services import api_tokens, staff
from tests.workspace.conftest import sign_in

REPLY = {"outcome": "reply", "reply": "您好，已为您核实并处理。"}


@pytest.fixture
def api(client, clock):  # type: ignore[no-untyped-def]
    """api(username, method, path, json=None) -> response, with a fresh token of that staff member."""
    def call(username: str, method: str, path: str, json: Any = None) -> Any:
        token, _ = api_tokens.issue_token(username, name="tests", now=clock.now())
        db.session.commit()
        return client.open(f"/api/v1{path}", method=method, json=json, headers={"Authorization": f"Bearer {token}"})
    return call


def _handle_task(driver: Any) -> HumanTask:
    task = driver.task(driver.start(), "handle")
    assert task.candidate_group not in (None, "other-group", "customer")
    return task


def _assign(task: HumanTask, username: str) -> None:
    db.session.execute(HumanTask.__table__.update().where(HumanTask.id == task.id).values(assignee=username))
    db.session.commit()
    db.session.expire_all()


def _hidden(response: Any, task_id: str) -> bool:
    """A 404 problem worded exactly as for an id that does not exist."""
    return (response.status_code == 404 and response.mimetype == "application/problem+json"
            and response.get_json()["detail"] == f"task {task_id} does not exist or is not one you may see; "
                                                 f"list your tasks with GET /api/v1/tasks")


def test_an_agent_of_another_group_gets_the_404_of_a_missing_task_for_every_verb(driver, make_staff, api) -> None:
    task = _handle_task(driver)
    make_staff("other", groups=["other-group"])
    assert _hidden(api("other", "GET", "/tasks/no-such-task"), "no-such-task")
    assert _hidden(api("other", "GET", f"/tasks/{task.task_id}"), task.task_id)
    for verb, body in (("claim", None), ("unclaim", None), ("complete", {"data": REPLY})):
        assert _hidden(api("other", "POST", f"/tasks/{task.task_id}/{verb}", body), task.task_id), verb
    db.session.expire_all()
    task = db.session.get(HumanTask, task.id)
    assert (task.status, task.assignee) == ("open", None)


def test_the_customers_confirmation_task_is_hidden_from_agents_and_only_read_by_supervisors(
        driver, make_staff, api) -> None:
    instance_id = driver.start()
    group = driver.task(instance_id, "handle").candidate_group
    driver.complete(instance_id, "handle", REPLY, actor="xiaowang")
    waiting = driver.task(instance_id, "confirm_resolution")
    make_staff("ann", groups=[group])
    make_staff("boss", roles=["supervisor"], groups=["supervisors"])
    assert _hidden(api("ann", "GET", f"/tasks/{waiting.task_id}"), waiting.task_id)
    assert _hidden(api("ann", "POST", f"/tasks/{waiting.task_id}/claim"), waiting.task_id)
    read = api("boss", "GET", f"/tasks/{waiting.task_id}")
    assert read.status_code == 200 and read.get_json()["candidate_group"] == "customer"
    for verb, body in (("claim", None), ("unclaim", None), ("complete", {"data": {"satisfied": True, "csat": 5}})):
        refused = api("boss", "POST", f"/tasks/{waiting.task_id}/{verb}", body)
        assert refused.status_code == 403 and "the customer's own" in refused.get_json()["detail"], verb


def test_the_supervisor_and_the_group_see_the_task_and_the_assignee_works_it(driver, make_staff, api, clock) -> None:
    task = _handle_task(driver)
    make_staff("ann", groups=[task.candidate_group])
    make_staff("boss", roles=["supervisor"], groups=["supervisors"])
    make_staff("xia", groups=["other-group"])
    assert api("boss", "GET", f"/tasks/{task.task_id}").get_json()["task_id"] == task.task_id   # team view
    assert api("ann", "GET", f"/tasks/{task.task_id}").status_code == 200
    assert _hidden(api("xia", "GET", f"/tasks/{task.task_id}"), task.task_id)
    _assign(task, "xia")   # as a supervisor's reassignment leaves it: held by someone outside the group
    read = api("xia", "GET", f"/tasks/{task.task_id}")
    assert read.get_json().get("assignee") == "xia", read.get_json()
    done = api("xia", "POST", f"/tasks/{task.task_id}/complete", {"data": REPLY})
    assert done.status_code == 200, done.get_json()


def test_whoever_stands_in_for_the_assignee_sees_the_task(driver, make_staff, api, clock) -> None:
    task = _handle_task(driver)
    make_staff("ann", groups=[task.candidate_group])
    make_staff("cover", groups=["other-group"])
    _assign(task, "ann")
    assert _hidden(api("cover", "GET", f"/tasks/{task.task_id}"), task.task_id)
    staff.add_substitution("ann", "cover", starts_at=clock.now() - timedelta(hours=1),
                           ends_at=clock.now() + timedelta(hours=8), actor="ann", now=clock.now(),
                           may_cover_others=False)
    db.session.commit()
    assert api("cover", "GET", f"/tasks/{task.task_id}").status_code == 200
    assert api("cover", "POST", f"/tasks/{task.task_id}/unclaim").get_json()["assignee"] is None


@pytest.mark.parametrize(("roles", "in_group", "visible"), [
    (["agent"], True, True), (["agent"], False, False),
    (["finance"], True, True), (["finance"], False, False),
    (["analyst"], True, False),    # no task role: neither the page nor the API
    (["supervisor"], False, True), (["admin"], False, True),
])
def test_the_api_and_the_task_page_agree_on_who_sees_a_task(driver, make_staff, api, client, roles, in_group,
                                                             visible) -> None:
    task = _handle_task(driver)
    make_staff("someone", roles=roles, groups=[task.candidate_group] if in_group else ["other-group"])
    read = api("someone", "GET", f"/tasks/{task.task_id}")
    assert read.status_code == (200 if visible else 404)
    if not visible:
        assert _hidden(read, task.task_id)
    sign_in(client, "someone")
    page = client.get(f"/tasks/{task.task_id}")
    assert (page.status_code == 200) is visible


def test_auditors_read_through_the_api_every_staff_task_they_list_but_work_none(driver, make_staff, api,
                                                                              client) -> None:
    task = _handle_task(driver)
    make_staff("checker", roles=["auditor"], groups=[])
    listed = api("checker", "GET", f"/tasks?scope=all&instance_id={task.instance_id}").get_json()["items"]
    assert [item["task_id"] for item in listed] == [task.task_id]
    assert api("checker", "GET", f"/tasks/{task.task_id}").status_code == 200
    assert api("checker", "POST", f"/tasks/{task.task_id}/claim").status_code == 403  # read-only
    sign_in(client, "checker")
    assert client.get(f"/tasks/{task.task_id}").status_code == 403  # the task page is for those who work tasks
    driver.complete(task.instance_id, "handle", {"outcome": "reply", "reply": "已处理"}, actor="xiaowang")
    [confirm] = driver.open_tasks(task.instance_id)  # the customer's own confirmation: not staff work
    read = api("checker", "GET", f"/tasks/{confirm.task_id}")
    assert read.status_code == 404 and _hidden(read, confirm.task_id)


def test_the_api_refuses_a_refund_the_task_page_refuses(driver, make_staff, api) -> None:
    instance_id = driver.start(amount_paid=299.0, already_refunded=99.0)
    handle = driver.task(instance_id, "handle")
    make_staff("ann", groups=[handle.candidate_group])
    data = {"reply": "您好，已为您退款", "outcome": "refund", "refund_reason": "坏了"}
    for amount, message in ((200.01, "must be at most the refundable 200.00"), (1.234, "at most two decimals")):
        answer = api("ann", "POST", f"/tasks/{handle.task_id}/complete", {"data": {**data, "refund_amount": amount}})
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
        assert message in str(answer.get_json())
    assert [(t.task_id, t.status) for t in driver.open_tasks(instance_id)] == [(handle.task_id, "open")]
    answer = api("ann", "POST", f"/tasks/{handle.task_id}/complete", {"data": {**data, "refund_amount": 200}})
    assert answer.status_code == 200
    assert [t.name for t in driver.open_tasks(instance_id)] == ["approve_refund"]
