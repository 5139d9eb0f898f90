"""QA fixes on the task page: Chinese-first form errors, a person's 404, and the customer's own tasks.

The customer's "confirm resolution" task (candidate group ``customer``) is answered in the portal or
the customer API only: staff never see it in their lists or workloads and cannot claim or complete it
(403, web and staff API); a supervisor may still open its page to see the complaint waits for the customer.
"""
from __future__ import annotations

from typing import Any

import pytest

from app.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import HumanTask
from app.services import api_tokens, staff, task_claims, task_lists
from app.services.task_lists import TaskQuery
from tests.workspace.conftest import csrf, sign_in

REPLY = {"outcome": "reply", "reply": "您好，已为您核实并处理。"}


def _customer_task(driver: Any) -> HumanTask:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", REPLY, actor="xiaowang")
    task = driver.task(instance_id, "confirm_resolution")
    assert task.candidate_group == "customer"
    return task


def _still_open(task: HumanTask) -> bool:
    db.session.expire_all()
    return db.session.get(HumanTask, task.id).status == "open"


def test_the_task_form_names_each_missing_field_in_chinese_first(driver, make_staff, client, clock) -> None:
    task = driver.task(driver.start(), "handle")
    ann = make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    client.post(f"/tasks/{task.task_id}/claim", data={"csrf_token": csrf(page)})
    answer = client.post(f"/tasks/{task.task_id}/complete", data={"csrf_token": csrf(page)})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert '<span class="field-error" id="error-outcome">请填写此项 / required</span>' in body
    assert "表单有误，请按标注修改后重新提交" in body
    assert "the form has errors" not in body and "this field is required" not in body
    with pytest.raises(ValidationFailed) as refused:
        task_claims.complete(task.task_id, {"outcome": "refund", "reply": "好的", "refund_amount": -5},
                             who=staff.identity(ann, now=clock.now()), now=clock.now())
    assert refused.value.fields == {"refund_amount": "必须大于 0 / must be more than 0"}
    assert _still_open(task)


def test_an_unknown_task_page_speaks_to_a_person_and_the_api_keeps_its_wording(driver, make_staff, client,
                                                                                 clock) -> None:
    make_staff("ann", groups=["tier1"])
    sign_in(client, "ann")
    missing = client.get("/tasks/no-such-task")
    body = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert "任务不存在或已完成，返回任务列表" in body and '<a href="/tasks" id="error-back">' in body
    assert "/api/v1/tasks" not in body
    page = client.get("/tasks").get_data(as_text=True)
    claim = client.post("/tasks/no-such-task/claim", data={"csrf_token": csrf(page)})
    assert claim.status_code == 404 and "任务不存在或已完成" in claim.get_data(as_text=True)
    token, _ = api_tokens.issue_token("ann", name="tests", now=clock.now())
    db.session.commit()
    api = client.get("/api/v1/tasks/no-such-task", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404 and "list your tasks with GET /api/v1/tasks" in api.get_json()["detail"]


def test_staff_cannot_work_the_customers_own_task(driver, make_staff, client, clock) -> None:
    task = _customer_task(driver)
    boss = make_staff("boss", roles=["supervisor"], groups=["supervisors"])
    who = staff.identity(boss, now=clock.now())
    for attempt in (lambda: task_claims.claim(task.task_id, who=who, now=clock.now()),
                    lambda: task_claims.complete(task.task_id, {"satisfied": True, "csat": 5}, who=who,
                                                 now=clock.now()),
                    lambda: task_claims.reassign(task.task_id, "boss", who=who, now=clock.now())):
        with pytest.raises(PermissionDenied, match="员工不能代为处理"):
            attempt()
    sign_in(client, "boss")
    page = client.get(f"/tasks/{task.task_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, "the supervisor still sees that the complaint waits for the customer"
    assert 'id="customers-own"' in html and "等待客户在客户门户确认" in html
    assert 'id="task-form"' not in html and 'id="claim"' not in html
    refused = client.post(f"/tasks/{task.task_id}/complete", data={"csrf_token": csrf(html), "satisfied": "on",
                                                                    "csat": "5"})
    assert refused.status_code == 403 and "员工不能代为处理" in refused.get_data(as_text=True)
    assert client.post(f"/tasks/{task.task_id}/claim", data={"csrf_token": csrf(html)}).status_code == 403
    assert _still_open(task), "no CSAT recorded on the customer's behalf"

    token, _ = api_tokens.issue_token("boss", name="tests", now=clock.now())
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    for path, body in ((f"/api/v1/tasks/{task.task_id}/claim", None),
                       (f"/api/v1/tasks/{task.task_id}/complete", {"data": {"satisfied": True, "csat": 5}})):
        api = client.post(path, json=body, headers=auth)
        assert api.status_code == 403 and "the customer's own" in api.get_json()["detail"], api.get_json()
    listed = client.get(f"/api/v1/tasks?scope=all&instance_id={task.instance_id}", headers=auth).get_json()
    assert listed["items"] == []
    assert _still_open(task)


def test_staff_lists_and_workloads_leave_the_customers_tasks_out(driver, make_staff, clock) -> None:
    waiting = _customer_task(driver)
    staffed = driver.task(driver.start(), "handle")
    boss = make_staff("boss", roles=["supervisor"], groups=["supervisors"])
    who = staff.identity(boss, now=clock.now())
    team = task_lists.list_tasks(who, TaskQuery(list_name="team"))
    assert [row.task_id for row in team.rows] == [staffed.task_id]
    due = task_lists.list_tasks(who, TaskQuery(list_name="team", sort="due"))
    assert [row.task_id for row in due.rows] == [staffed.task_id]
    overview = task_lists.supervisor_overview(now=clock.now())
    assert [group for group, _n, _u in overview.per_group] == [staffed.candidate_group]
    assert waiting.task_id not in {t.task_id for t in overview.breached + overview.near_breach}
    db.session.execute(HumanTask.__table__.update().where(HumanTask.id == waiting.id).values(assignee="boss"))
    db.session.commit()   # even if one were ever assigned, it is not staff workload
    assert task_lists.workload_per_agent() == []
    assert task_lists.list_tasks(who, TaskQuery(list_name="mine")).rows == []
