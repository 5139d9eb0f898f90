"""Out-of-office substitutes: arranged by the absent person or a supervisor, ended early, listed when past;
and the supervisor's reassignment from the supervisor view, recorded in the audit chain."""
from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessEvent, Substitution
from app.services import staff, task_claims, task_lists
from app.services.task_lists import TaskQuery
from tests.workspace.conftest import csrf, sign_in

SHOP = ZoneInfo("Asia/Shanghai")


def _system_events(event_type: str) -> list[dict]:  # type: ignore[type-arg]
    rows = db.session.execute(select(ProcessEvent).where(ProcessEvent.stream == "system",
                                                         ProcessEvent.event_type == event_type)
                              .order_by(ProcessEvent.seq)).scalars()
    return [{"actor": r.actor, **json.loads(r.payload)} for r in rows]


def _window(clock, start_hours: float, end_hours: float) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The form's From/To as a person types them: on the shop's wall clock (Asia/Shanghai in the tests)."""
    at = lambda hours: (clock.now() + timedelta(hours=hours)).astimezone(SHOP).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    return {"starts_at": at(start_hours), "ends_at": at(end_hours)}


def test_an_agent_arranges_cover_for_their_own_absence_and_ends_it_early(driver, make_staff, clock, client) -> None:
    task = driver.task(driver.start(), "handle")
    ann = make_staff("ann", groups=[task.candidate_group])
    sub = make_staff("sub", groups=["tier1-billing"])
    task_claims.claim(task.task_id, who=staff.identity(ann, now=clock.now()), now=clock.now())
    sign_in(client, "ann")
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    assert 'name="absent" value="ann"' in page  # an agent arranges cover for themselves only
    answer = client.post("/tasks/substitutes", data={"csrf_token": csrf(page), "absent": "ann", "substitute": "sub",
                                                     **_window(clock, -1, 48)})
    assert answer.status_code == 302
    assert [t.task_id for t in task_lists.list_tasks(staff.identity(sub, now=clock.now()), TaskQuery("mine")).rows] \
        == [task.task_id]
    row = db.session.execute(select(Substitution)).scalar_one()
    clock.advance(hours=2)
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    assert f'id="end-substitution-{row.id}">End now 提前结束' in page
    assert client.post(f"/tasks/substitutes/{row.id}/end", data={"csrf_token": csrf(page)}).status_code == 302
    assert task_lists.list_tasks(staff.identity(sub, now=clock.now()), TaskQuery("mine")).rows == []
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    past = page[page.index('id="past-substitutes"'):]
    assert "<td>ann</td><td>sub</td>" in past and clock.now().astimezone(SHOP).strftime("%Y-%m-%d %H:%M") in past
    assert [(e["actor"], e["absent"], e["substitute"]) for e in _system_events("substitution.ended")] == [
        ("ann", "ann", "sub")]
    assert _system_events("substitution.added")[0]["actor"] == "ann"


def test_an_agent_cannot_arrange_or_end_cover_for_a_colleague(make_staff, clock, client) -> None:
    make_staff("ann"), make_staff("bob"), make_staff("cid")
    row = staff.add_substitution("bob", "cid", starts_at=clock.now(), ends_at=clock.now() + timedelta(days=1),
                                 actor="boss", now=clock.now())
    db.session.commit()
    sign_in(client, "ann")
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    assert "<td>bob</td>" not in page  # agents see only substitutions that involve them
    answer = client.post("/tasks/substitutes", data={"csrf_token": csrf(page), "absent": "bob", "substitute": "ann",
                                                     **_window(clock, 0, 5)})
    assert answer.status_code == 403
    assert "you can arrange a substitute for your own absence only" in answer.get_data(as_text=True)
    answer = client.post(f"/tasks/substitutes/{row.id}/end", data={"csrf_token": csrf(page)})
    assert answer.status_code == 403
    assert "only the absent person, whoever arranged the substitute, or a supervisor" in answer.get_data(as_text=True)
    assert db.session.get(Substitution, row.id).ends_at == clock.now() + timedelta(days=1)


def test_a_supervisor_ends_a_running_one_and_removes_one_not_yet_started(make_staff, clock, client) -> None:
    make_staff("boss", roles=["supervisor"]), make_staff("bob"), make_staff("cid")
    running = staff.add_substitution("bob", "cid", starts_at=clock.now() - timedelta(hours=1),
                                     ends_at=clock.now() + timedelta(days=1), actor="bob", now=clock.now())
    coming = staff.add_substitution("cid", "bob", starts_at=clock.now() + timedelta(days=3),
                                    ends_at=clock.now() + timedelta(days=4), actor="cid", now=clock.now())
    db.session.commit()
    sign_in(client, "boss")
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    assert f'id="end-substitution-{coming.id}">Remove 取消' in page
    for row in (running, coming):
        assert client.post(f"/tasks/substitutes/{row.id}/end", data={"csrf_token": csrf(page)}).status_code == 302
    assert db.session.get(Substitution, running.id).ends_at == clock.now()
    assert db.session.get(Substitution, coming.id) is None
    answer = client.post(f"/tasks/substitutes/{running.id}/end", data={"csrf_token": csrf(page)})
    assert answer.status_code == 409
    assert "this substitution already ended" in answer.get_data(as_text=True)
    assert client.post(f"/tasks/substitutes/{coming.id}/end", data={"csrf_token": csrf(page)}).status_code == 404
    assert [e["actor"] for e in _system_events("substitution.removed")] == ["boss"]


def test_a_bad_time_is_refused_naming_the_field(make_staff, client) -> None:
    make_staff("ann"), make_staff("sub")
    sign_in(client, "ann")
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    answer = client.post("/tasks/substitutes", data={"csrf_token": csrf(page), "absent": "ann", "substitute": "sub",
                                                     "starts_at": "tomorrow", "ends_at": "2026-12-01T09:00"})
    assert answer.status_code == 422
    assert "give a date and time like 2026-12-01T09:00" in answer.get_data(as_text=True)
    assert db.session.execute(select(Substitution)).first() is None


def test_the_supervisor_reassigns_from_the_supervisor_view_with_an_audit_event(driver, make_staff, clock,
                                                                                client) -> None:
    task = driver.task(driver.start(), "handle")
    ann = make_staff("ann", groups=[task.candidate_group])
    make_staff("bob", groups=[task.candidate_group])
    make_staff("boss", roles=["supervisor"])
    task_claims.claim(task.task_id, who=staff.identity(ann, now=clock.now()), now=clock.now())
    db.session.commit()
    clock.set(task.due_at + timedelta(minutes=5))
    sign_in(client, "boss")
    page = client.get("/tasks/supervisor").get_data(as_text=True)
    assert f'action="/tasks/{task.task_id}/reassign"' in page
    answer = client.post(f"/tasks/{task.task_id}/reassign", data={"csrf_token": csrf(page), "username": "bob"},
                         headers={"Referer": "/tasks/supervisor"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/tasks/supervisor")
    assert task_lists.workload_per_agent() == [("bob", 1)]
    event = _system_events("task.reassigned")[-1]
    assert (event["actor"], event["before"], event["after"]) == ("boss", {"assignee": "ann"}, {"assignee": "bob"})
