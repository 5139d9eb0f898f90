"""Bearer tokens (and only tokens) authenticate; /definitions and /processes; `flask users token`."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import ApiToken, User
from app.services import api_tokens
from tests.api.conftest import api_files


def test_requests_without_a_valid_token_get_401_with_a_bearer_challenge(call, client, deployed, clock) -> None:
    missing = client.get("/api/v1/instances")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == 'Bearer realm="kesu"'
    assert "Authorization: Bearer <token>" in missing.get_json()["detail"]
    wrong = client.get("/api/v1/instances", headers={"Authorization": "Bearer kesu_wrong"})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.get_json()["detail"]
    assert client.get("/api/v1/instances", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_a_revoked_token_stops_working_and_use_is_noted(client, token_for, deployed, clock) -> None:
    headers = token_for("xiaowang")
    assert client.get("/api/v1/instances", headers=headers).status_code == 200
    row = db.session.query(ApiToken).filter_by(
        token_sha256=api_tokens.token_digest(headers["Authorization"][7:])).one()
    assert row.last_used_at == clock.now() and len(row.token_sha256) == 64
    api_tokens.revoke_token(row.id, now=clock.now())
    db.session.commit()
    assert client.get("/api/v1/instances", headers=headers).status_code == 401


def test_a_signed_in_browser_cookie_does_not_authenticate_the_api(client, token_for, deployed) -> None:
    token_for("zhuguan")
    user = db.session.query(User).filter_by(username="zhuguan").one()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    response = client.post("/api/v1/instances", json={"process_id": "complaint_auto"})
    assert response.status_code == 401


def test_unknown_routes_and_methods_answer_problem_json(call, deployed) -> None:
    missing = call("xiaowang", "GET", "/nowhere")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong_method = call("xiaowang", "DELETE", "/instances")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]


def test_definitions_and_processes_list_what_is_deployed(call, deployed) -> None:
    [version] = call("shenji", "GET", "/definitions").get_json()["items"]
    assert version["version"] == deployed.version and "approval" in version["process_ids"]
    processes = {p["process_id"]: p for p in call("shenji", "GET", "/processes").get_json()["items"]}
    assert processes["complaint_user"] == {"process_id": "complaint_user", "latest_version": deployed.version,
                                           "versions": [deployed.version]}


def test_analysts_deploy_and_the_same_files_are_not_deployed_twice(call, deployed) -> None:
    files = {**api_files(), "bpmn/forms/extra.json": '{"type": "object"}'}
    created = call("fenxi", "POST", "/definitions", json={"files": files, "comment": "extra form"})
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["version"], created.get_json()["created"]) == (deployed.version + 1, True)
    again = call("fenxi", "POST", "/definitions", json={"files": files})
    assert again.status_code == 200 and again.get_json()["created"] is False
    refused = call("xiaowang", "POST", "/definitions", json={"files": files})
    assert refused.status_code == 403 and "roles analyst" in refused.get_json()["detail"]


def test_deploy_problems_name_file_element_and_line(call, deployed) -> None:
    broken = api_files()
    broken["bpmn/flaky.bpmn"] = broken["bpmn/flaky.bpmn"].replace("api_test_flaky", "no_such_operator")
    response = call("fenxi", "POST", "/definitions", json={"files": broken})
    assert response.status_code == 422 and "nothing was deployed" in response.get_json()["detail"]
    [problem] = response.get_json()["problems"]
    assert (problem["file"], problem["element_id"], problem["severity"]) == ("bpmn/flaky.bpmn", "call", "error")
    assert "unknown service operator 'no_such_operator'" in problem["message"] and "line" in problem
    xxe = call("fenxi", "POST", "/definitions", json={"files": {
        "bpmn/x.bpmn": '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>'}})
    assert xxe.status_code == 422 and "DOCTYPE" in str(xxe.get_json()["problems"])
    bad_path = call("fenxi", "POST", "/definitions", json={"files": {"../etc/passwd": "x"}})
    assert bad_path.status_code == 422 and bad_path.get_json()["errors"][0]["field"] == "files"


def test_cli_prints_a_new_token_once_and_refuses_unknown_users(cli_runner, token_for) -> None:
    token_for("xiaowang")
    result = cli_runner.invoke(args=["users", "token", "xiaowang", "--name", "order-service"])
    assert result.exit_code == 0 and re.fullmatch(r"kesu_[\w-]{40,}\n", result.output)
    row = db.session.query(ApiToken).filter_by(name="order-service").one()
    assert row.token_sha256 == api_tokens.token_digest(result.output.strip())
    unknown = cli_runner.invoke(args=["users", "token", "nobody"])
    assert unknown.exit_code == 1 and "no active staff member is called 'nobody'" in unknown.output
