"""/api/v1/instances: start, read, list, cancel, suspend, resume, retry, and their errors."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Job, ProcessEvent
from app.worker import run_one_job


def _start(call, process_id="complaint_user", user="xiaowang", **body):  # type: ignore[no-untyped-def]
    return call(user, "POST", "/instances", json={"process_id": process_id, **body})


def test_start_runs_until_the_user_task_and_reports_data_tasks_and_version(call, deployed) -> None:
    response = _start(call, business_key="C-7", data={"order_id": "O-1"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["version"], body["business_key"], body["started_by"]) == (
        "waiting", deployed.version, "C-7", "xiaowang")
    assert body["data"]["severity"] == "high" and body["data"]["order_id"] == "O-1"
    assert [t["name"] for t in body["tasks"]] == ["review"]
    again = call("shenji", "GET", f"/instances/{body['id']}").get_json()
    assert again["tasks"] == body["tasks"] and again["data"] == body["data"]


def test_automatic_process_completes_in_the_start_call(call, deployed) -> None:
    body = _start(call, "complaint_auto").get_json()
    assert body["status"] == "completed" and body["completed_at"] is not None
    assert body["data"]["assigned_team"] == "tier2" and body["tasks"] == []


def test_start_errors_say_what_is_wrong(call, deployed) -> None:
    unknown = _start(call, "no_such_process")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert "no deployed version contains process 'no_such_process'" in unknown.get_json()["detail"]
    missing_version = _start(call, version=999)
    assert missing_version.status_code == 404
    assert "version 999 is not deployed" in missing_version.get_json()["detail"]
    invalid = call("xiaowang", "POST", "/instances", json={"data": []})
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.get_json()["errors"]} == {"process_id", "data"}
    not_json = call("xiaowang", "POST", "/instances", data="x", content_type="text/plain")
    assert not_json.status_code == 422 and "send a JSON object" in not_json.get_json()["detail"]
    nul = _start(call, business_key="a\x00b")
    assert nul.status_code == 422 and nul.get_json()["errors"] == [
        {"field": "business_key", "message": "contains a NUL character"}]
    auditor = _start(call, user="shenji")
    assert auditor.status_code == 403 and "agent, expert, supervisor, analyst" in auditor.get_json()["detail"]


def test_async_start_answers_at_once_and_the_worker_runs_it(app, call, deployed) -> None:
    response = call("xiaowang", "POST", "/instances?mode=async", json={"process_id": "complaint_auto"})
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["data"]) == ("running", {})
    assert run_one_job(app, "test-worker") is True
    assert call("xiaowang", "GET", f"/instances/{body['id']}").get_json()["status"] == "completed"
    bad_mode = call("xiaowang", "POST", "/instances?mode=later", json={"process_id": "complaint_auto"})
    assert bad_mode.status_code == 422 and bad_mode.get_json()["errors"][0]["field"] == "mode"


def test_list_filters_by_process_status_and_business_key(call, deployed) -> None:
    _start(call, business_key="A")
    _start(call, "complaint_auto", business_key="B")
    waiting = call("xiaowang", "GET", "/instances?status=waiting").get_json()["items"]
    assert [i["business_key"] for i in waiting] == ["A"]
    by_key = call("xiaowang", "GET", "/instances?business_key=B&process_id=complaint_auto").get_json()["items"]
    assert [i["status"] for i in by_key] == ["completed"]
    assert len(call("xiaowang", "GET", "/instances?limit=1").get_json()["items"]) == 1
    bad = call("xiaowang", "GET", "/instances?limit=0&offset=x")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"limit", "offset"}


def test_unknown_instance_is_a_problem_404(call, deployed) -> None:
    for path in ("/instances/424242", "/instances/99999999999999999999"):
        response = call("xiaowang", "GET", path)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_cancel_closes_tasks_waits_and_jobs_and_is_audited(call, deployed) -> None:
    instance = _start(call).get_json()
    refused = call("xiaowang", "POST", f"/instances/{instance['id']}/cancel", json={"reason": "duplicate"})
    assert refused.status_code == 403
    no_reason = call("zhuguan", "POST", f"/instances/{instance['id']}/cancel", json={})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    response = call("zhuguan", "POST", f"/instances/{instance['id']}/cancel", json={"reason": "duplicate"})
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["tasks"]) == ("cancelled", [])
    task = db.session.execute(select(HumanTask).where(HumanTask.instance_id == instance["id"])).scalar_one()
    assert task.status == "cancelled"
    event = db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance["id"])
                               .order_by(ProcessEvent.seq.desc())).scalars().first()
    assert (event.event_type, event.actor) == ("instance.cancelled", "zhuguan")
    assert '"reason":"duplicate"' in event.payload
    twice = call("zhuguan", "POST", f"/instances/{instance['id']}/cancel", json={"reason": "again"})
    assert twice.status_code == 409 and "already cancelled" in twice.get_json()["detail"]


def test_cancel_also_closes_message_waits_and_queued_jobs(app, call, deployed) -> None:
    waiting = _start(call, "waiter", data={"refund_id": "R-1"}).get_json()
    queued = call("xiaowang", "POST", "/instances?mode=async", json={"process_id": "complaint_auto"}).get_json()
    for instance in (waiting, queued):
        assert call("zhuguan", "POST", f"/instances/{instance['id']}/cancel", json={"reason": "test"}).status_code == 200
    gone = call("xiaowang", "POST", "/messages", json={"name": "refund_result", "correlations": {"refund_id": "R-1"}})
    assert gone.status_code == 404
    job = db.session.execute(select(Job).where(Job.instance_id == queued["id"])).scalar_one()
    assert job.status == "cancelled" and run_one_job(app, "test-worker") is False


def test_suspended_instance_refuses_work_until_resumed(call, deployed) -> None:
    instance = _start(call, "approval", data={"requested_by": "xiaoli"}).get_json()
    path = f"/instances/{instance['id']}"
    assert call("zhuguan", "POST", f"{path}/suspend", json={"reason": "fraud check"}).get_json()["status"] == "suspended"
    task_id = instance["tasks"][0]["task_id"]
    blocked = call("xiaowang", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert blocked.status_code == 409 and "suspended; resume it first" in blocked.get_json()["detail"]
    twice = call("zhuguan", "POST", f"{path}/suspend", json={"reason": "again"})
    assert twice.status_code == 409 and "only running, waiting or failed" in twice.get_json()["detail"]
    resumed = call("zhuguan", "POST", f"{path}/resume", json={"reason": "checked"})
    assert resumed.get_json()["status"] == "waiting"
    not_suspended = call("zhuguan", "POST", f"{path}/resume", json={"reason": "again"})
    assert not_suspended.status_code == 409 and "not suspended" in not_suspended.get_json()["detail"]
    done = call("xiaowang", "POST", f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert done.get_json()["status"] == "completed"


def test_retry_reruns_an_incident(call, deployed, flaky_shop) -> None:
    instance = _start(call, "flaky").get_json()
    assert instance["status"] == "error" and "the shop did not answer" in instance["error"]
    flaky_shop.working = True
    assert call("xiaowang", "POST", f"/instances/{instance['id']}/retry").status_code == 403
    retried = call("zhuguan", "POST", f"/instances/{instance['id']}/retry")
    assert retried.status_code == 200 and retried.get_json()["status"] == "completed"
    again = call("zhuguan", "POST", f"/instances/{instance['id']}/retry")
    assert again.status_code == 409 and "no failed step to retry" in again.get_json()["detail"]
