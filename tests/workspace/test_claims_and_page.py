"""Claiming, substitutes, the task form's messages, templates, comments, four eyes, admin."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.errors import Conflict, PermissionDenied, TaskClaimedByOther, ValidationFailed
from app.models import ReplyTemplate
from app.services import staff, task_claims, task_lists, task_page
from app.services.task_lists import TaskQuery
from tests.workspace.conftest import csrf, sign_in


def _who(user, clock):  # type: ignore[no-untyped-def]
    return staff.identity(user, now=clock.now())


def test_a_second_claim_sees_who_won(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    ann, bob = (make_staff(n, groups=[task.candidate_group]) for n in ("ann", "bob"))
    task_claims.claim(task.task_id, who=_who(ann, clock), now=clock.now())
    with pytest.raises(TaskClaimedByOther, match="already claimed by ann"):
        task_claims.claim(task.task_id, who=_who(bob, clock), now=clock.now())
    with pytest.raises(TaskClaimedByOther, match="only they or a supervisor can unclaim it"):
        task_claims.unclaim(task.task_id, who=_who(bob, clock), now=clock.now())
    task_claims.unclaim(task.task_id, who=_who(ann, clock), now=clock.now())
    with pytest.raises(Conflict, match="not claimed by anyone"):
        task_claims.unclaim(task.task_id, who=_who(ann, clock), now=clock.now())


def test_supervisors_reassign_and_agents_may_not(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    ann = make_staff("ann", groups=[task.candidate_group])
    boss = make_staff("boss", roles=["supervisor"])
    with pytest.raises(PermissionDenied, match="only supervisors can reassign tasks"):
        task_claims.reassign(task.task_id, "ann", who=_who(ann, clock), now=clock.now())
    with pytest.raises(Exception, match="no active staff member is called nobody"):
        task_claims.reassign(task.task_id, "nobody", who=_who(boss, clock), now=clock.now())
    assert task_claims.reassign(task.task_id, "ann", who=_who(boss, clock), now=clock.now()).assignee == "ann"
    assert [t.task_id for t in task_lists.list_tasks(_who(ann, clock), TaskQuery("mine")).rows] == [task.task_id]


def test_a_substitute_works_the_absent_persons_tasks_only_in_the_window(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    ann = make_staff("ann", groups=[task.candidate_group])
    sub = make_staff("sub", groups=["tier1-billing"])
    task_claims.claim(task.task_id, who=_who(ann, clock), now=clock.now())
    staff.add_substitution("ann", "sub", starts_at=clock.now(), ends_at=clock.now() + timedelta(days=2),
                           actor="admin", now=clock.now())
    mine = task_lists.list_tasks(_who(sub, clock), TaskQuery("mine")).rows
    assert [t.task_id for t in mine] == [task.task_id]
    task_claims.complete(task.task_id, {"outcome": "reply", "reply": "已为您处理"}, who=_who(sub, clock),
                         now=clock.now())
    clock.advance(days=3)
    assert _who(sub, clock).usernames == ("sub",)


@pytest.mark.parametrize("absent, substitute, hours, field, message", [
    ("ann", "ann", 1, "substitute", "choose someone other than the absent person"),
    ("ann", "bob", -1, "ends_at", "the end must be after the start"),
])
def test_bad_substitutions_are_refused(make_staff, clock, absent, substitute, hours, field, message) -> None:
    make_staff("ann"), make_staff("bob")
    with pytest.raises(ValidationFailed) as error:
        staff.add_substitution(absent, substitute, starts_at=clock.now(),
                               ends_at=clock.now() + timedelta(hours=hours), actor="admin", now=clock.now())
    assert error.value.fields[field] == message


def test_unknown_roles_and_groups_are_refused(make_staff, clock) -> None:
    make_staff("ann")
    with pytest.raises(ValidationFailed) as error:
        staff.update_staff("ann", roles=["wizard"], groups=["moon"], is_active=True, actor="root", now=clock.now())
    assert error.value.fields["roles"].startswith("unknown role wizard; choose from agent")
    assert error.value.fields["groups"].startswith("unknown group moon; choose from tier1-product")


def test_the_admin_page_edits_roles_and_groups(client, make_staff) -> None:
    make_staff("root", roles=["admin"])
    make_staff("ann")
    sign_in(client, "root")
    page = client.get("/admin/users").get_data(as_text=True)
    answer = client.post("/admin/users/ann", data={"csrf_token": csrf(page), "roles": ["agent", "qa"],
                                                   "groups": ["qa"], "active": "on"})
    assert answer.status_code == 302
    assert [u.groups for u in staff.list_staff() if u.username == "ann"] == [["qa"]]


def test_the_admin_page_offers_team_leads_who_approve_refunds_below_500(client, make_staff) -> None:
    """rules/refund_approval_level.dmn sends refunds below 500 to the group team-leads: saving a row keeps it."""
    make_staff("root", roles=["admin"])
    make_staff("lead", roles=["agent"], groups=["team-leads"])
    sign_in(client, "root")
    page = client.get("/admin/users").get_data(as_text=True)
    row = page[page.index('action="/admin/users/lead"'):]
    assert re.search(r'name="groups" value="team-leads" checked', row[:row.index("</tr>")])
    answer = client.post("/admin/users/lead", data={"csrf_token": csrf(page), "roles": ["agent"],
                                                    "groups": ["team-leads", "tier2"], "active": "on"})
    assert answer.status_code == 302
    assert [u.groups for u in staff.list_staff() if u.username == "lead"] == [["team-leads", "tier2"]]


def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(client, make_staff) -> None:
    make_staff("root", roles=["admin"])
    sign_in(client, "root")
    page = client.get("/admin/users").get_data(as_text=True)
    for fields in ({"roles": ["agent"], "active": "on"}, {"roles": ["admin"]}):
        answer = client.post("/admin/users/root", data={"csrf_token": csrf(page), **fields})
        assert answer.status_code == 422
        assert "root is the last active admin" in answer.get_data(as_text=True)
        assert [(u.roles, u.is_active_account) for u in staff.list_staff() if u.username == "root"] == [(["admin"], True)]
    make_staff("second", roles=["admin"])
    answer = client.post("/admin/users/root", data={"csrf_token": csrf(page), "roles": ["agent"], "active": "on"})
    assert answer.status_code == 302
    assert [u.roles for u in staff.list_staff() if u.username == "root"] == [["agent"]]


def test_the_form_shows_a_message_by_field(driver, make_staff, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert 'name="outcome"' in page and "Refund 退款" in page and "<textarea id=\"f-reply\"" in page
    answer = client.post(f"/tasks/{task.task_id}/complete",
                         data={"csrf_token": csrf(page), "outcome": "refund", "reply": "好的"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="error-refund_amount"' in body


def test_a_template_fills_in_customer_order_and_amount(driver, make_staff, client, db_session) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    template = db_session.query(ReplyTemplate).filter(ReplyTemplate.name.like("退款%")).one()
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}?template={template.id}").get_data(as_text=True)
    assert "订单 O-1001 的 ¥120.00 退款" in page


def test_comments_are_kept_and_empty_ones_refused(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    with pytest.raises(ValidationFailed) as error:
        task_page.add_comment(task.instance_id, "  ", author="ann", now=clock.now())
    assert error.value.fields == {"body": "write something before saving"}
    task_page.add_comment(task.instance_id, "VIP, be quick", author="ann", now=clock.now())
    assert [c.body for c in task_page._comments(task.instance_id)] == ["VIP, be quick"]


def test_four_eyes_is_shown_to_the_requester(driver, make_staff, clock) -> None:
    task = driver.task(driver.start(), "handle")
    ann = make_staff("ann", groups=[task.candidate_group])
    task.requested_by = "ann"  # what the projection stores for an approval task the user asked for
    assert "under the four-eyes rule another person must approve it" in task_page._four_eyes(task, _who(ann, clock))
