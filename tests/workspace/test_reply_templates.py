"""Reply templates inserted without a reload: the JSON endpoint the task page's script calls (staff
who may work the task only, no side effects, a clear 404 for a template not offered), and the page
wiring it to a static script (no inline JavaScript) while the plain GET form keeps working."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ReplyTemplate, TaskStatus
from tests.workspace.conftest import sign_in

JSON = {"Accept": "application/json"}


def _refund_template() -> ReplyTemplate:
    return db.session.execute(select(ReplyTemplate).where(ReplyTemplate.name.like("退款%"))).scalar_one()


def test_the_template_comes_back_filled_in_for_the_task_without_touching_it(driver, make_staff, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    template = _refund_template()
    sign_in(client, "ann")
    answer = client.get(f"/tasks/{task.task_id}/reply-template?template={template.id}", headers=JSON)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["template_id"] == template.id and body["name"] == template.name
    assert "订单 O-1001 的 ¥120.00 退款" in body["text"] and "{" not in body["text"]
    db.session.expire_all()
    unchanged = db.session.execute(select(HumanTask).where(HumanTask.task_id == task.task_id)).scalar_one()
    assert (unchanged.assignee, unchanged.status) == (None, TaskStatus.OPEN.value)  # a GET claims nothing


def test_an_agent_of_another_group_is_refused(driver, make_staff, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("bob", groups=["tier1-billing" if task.candidate_group != "tier1-billing" else "tier1-product"])
    sign_in(client, "bob")
    answer = client.get(f"/tasks/{task.task_id}/reply-template?template={_refund_template().id}", headers=JSON)
    assert answer.status_code == 403
    assert "you are not in it" in answer.get_json()["detail"]
    assert "O-1001" not in answer.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(driver, client) -> None:
    task = driver.task(driver.start(), "handle")
    answer = client.get(f"/tasks/{task.task_id}/reply-template?template={_refund_template().id}", headers=JSON)
    assert answer.status_code in (302, 401)
    assert "O-1001" not in answer.get_data(as_text=True)


def test_a_template_not_offered_is_a_404_that_says_what_to_do(driver, make_staff, client, clock) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    for wrong in ("999999", "", "abc"):
        answer = client.get(f"/tasks/{task.task_id}/reply-template?template={wrong}", headers=JSON)
        assert answer.status_code == 404, wrong
        assert "choose one from the task page's list" in answer.get_json()["detail"]
    template = _refund_template()
    template.archived_at = clock.now()  # archived in the knowledge base: no longer offered
    db.session.commit()
    answer = client.get(f"/tasks/{task.task_id}/reply-template?template={template.id}", headers=JSON)
    assert answer.status_code == 404
    missing = client.get(f"/tasks/no-such-task/reply-template?template={template.id}", headers=JSON)
    assert missing.status_code == 404


def test_the_page_loads_the_static_script_and_keeps_the_plain_form(driver, make_staff, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert '<script src="/static/js/tasks.js" defer></script>' in page
    assert f'data-url="/tasks/{task.task_id}/reply-template"' in page
    assert f'data-draft-key="kesu.task-draft.ann.{task.task_id}"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "no inline script"
    assert '<form method="get" class="inline" id="template-form"' in page  # without JavaScript: a reload
    script = client.get("/static/js/tasks.js")
    assert script.status_code == 200 and "insertIntoReply" in script.get_data(as_text=True)
    script.close()
