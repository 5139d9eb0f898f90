"""/api/v1/tasks: lists by scope, form schema, claim/unclaim, completion guarantees; /messages."""
from __future__ import annotations


def _approval(call, requested_by="xiaoli"):  # type: ignore[no-untyped-def]
    body = call("xiaowang", "POST", "/instances", json={"process_id": "approval",
                                                         "data": {"requested_by": requested_by}}).get_json()
    return body["tasks"][0]["task_id"]


def test_lists_show_tasks_by_scope_and_instance(call, deployed) -> None:
    task_id = _approval(call)
    available = call("xiaowang", "GET", "/tasks").get_json()["items"]
    assert [t["task_id"] for t in available] == [task_id]
    assert available[0]["candidate_group"] == "tier1" and available[0]["priority"] == "medium"
    assert call("zhuanjia", "GET", "/tasks?scope=groups").get_json()["items"] == []
    assert call("xiaowang", "GET", "/tasks?scope=mine").get_json()["items"] == []
    call("xiaowang", "POST", f"/tasks/{task_id}/claim")
    assert [t["assignee"] for t in call("xiaowang", "GET", "/tasks?scope=mine").get_json()["items"]] == ["xiaowang"]
    instance_id = available[0]["instance_id"]
    assert len(call("zhuguan", "GET", f"/tasks?scope=all&instance_id={instance_id}").get_json()["items"]) == 1
    refused = call("xiaowang", "GET", "/tasks?scope=all")
    assert refused.status_code == 403 and "only supervisors and auditors" in refused.get_json()["detail"]


def test_a_task_is_read_with_its_form_schema(call, deployed) -> None:
    task_id = _approval(call)
    task = call("xiaowang", "GET", f"/tasks/{task_id}").get_json()
    assert task["form_key"] == "review-form" and task["form"]["required"] == ["approved"]
    missing = call("xiaowang", "GET", "/tasks/nope")
    assert missing.status_code == 404 and "list your tasks" in missing.get_json()["detail"]


def test_claim_and_unclaim_follow_groups_and_owners(call, deployed) -> None:
    task_id = _approval(call)
    other_group = call("zhuanjia", "POST", f"/tasks/{task_id}/claim")
    assert other_group.status_code == 404 and "not one you may see" in other_group.get_json()["detail"]
    assert call("xiaowang", "POST", f"/tasks/{task_id}/claim").get_json()["assignee"] == "xiaowang"
    taken = call("xiaoli", "POST", f"/tasks/{task_id}/claim")
    assert taken.status_code == 409 and "already claimed by xiaowang" in taken.get_json()["detail"]
    not_yours = call("xiaoli", "POST", f"/tasks/{task_id}/unclaim")
    assert not_yours.status_code == 409 and "only they or a supervisor" in not_yours.get_json()["detail"]
    held = call("xiaoli", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert held.status_code == 409 and "claimed by xiaowang" in held.get_json()["detail"]
    assert call("zhuguan", "POST", f"/tasks/{task_id}/unclaim").get_json()["assignee"] is None
    nobody = call("xiaowang", "POST", f"/tasks/{task_id}/unclaim")
    assert nobody.status_code == 409 and "not claimed by anyone" in nobody.get_json()["detail"]
    assert call("shenji", "POST", f"/tasks/{task_id}/claim").status_code == 403


def test_complete_validates_the_form_enforces_four_eyes_and_happens_once(call, deployed) -> None:
    task_id = _approval(call, requested_by="xiaowang")
    invalid = call("xiaoli", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": "yes"}})
    assert invalid.status_code == 422
    assert invalid.get_json()["errors"] == [{"field": "approved", "message": "'yes' is not of type 'boolean'"}]
    own = call("xiaowang", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert own.status_code == 403 and "another person must approve it" in own.get_json()["detail"]
    done = call("xiaoli", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": True, "comment": "ok"}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    again = call("xiaoli", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert again.status_code == 409 and "already completed by xiaoli" in again.get_json()["detail"]
    assert call("xiaoli", "POST", f"/tasks/{task_id}/unclaim").status_code == 409
    completed = call("xiaoli", "GET", "/tasks?status=completed").get_json()["items"]
    assert [(t["task_id"], t["completed_by"]) for t in completed] == [(task_id, "xiaoli")]


def test_message_reaches_the_one_waiting_instance(call, deployed) -> None:
    first = call("xiaowang", "POST", "/instances", json={"process_id": "waiter", "data": {"refund_id": "R-1"}})
    call("xiaowang", "POST", "/instances", json={"process_id": "waiter", "data": {"refund_id": "R-1"}})
    ambiguous = call("xiaowang", "POST", "/messages", json={"name": "refund_result",
                                                            "correlations": {"refund_id": "R-1"}})
    assert ambiguous.status_code == 409 and "give correlation keys that pick one" in ambiguous.get_json()["detail"]
    assert len(ambiguous.get_json()["instances"]) == 2
    call("xiaowang", "POST", "/instances", json={"process_id": "waiter", "data": {"refund_id": "R-2"}})
    delivered = call("xiaowang", "POST", "/messages", json={
        "name": "refund_result", "correlations": {"refund_id": "R-2"}, "payload": {"refund_id": "R-2", "ok": True}})
    assert delivered.status_code == 200 and delivered.get_json()["status"] == "completed"
    assert delivered.get_json()["data"]["result"] == {"refund_id": "R-2", "ok": True}
    nobody = call("xiaowang", "POST", "/messages", json={"name": "refund_result", "correlations": {"refund_id": "R-9"}})
    assert nobody.status_code == 404 and "no process instance is waiting" in nobody.get_json()["detail"]
    assert call("fenxi", "POST", "/messages", json={"name": "refund_result"}).status_code == 403
    assert first.status_code == 201
