"""Fixtures for the JSON API: staff with tokens, and deployed test processes."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import User
from app.services import api_tokens, definitions
from tests.support.engine import message_process, xml_process
from workflows.services import ServiceError

BENCH_MODELS = Path(__file__).resolve().parents[2] / "bench" / "models" / "http"

APPROVAL = xml_process("""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="approve" />
  <bpmn:userTask id="approve" name="Approve refund"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formKey" value="review-form" />
    <spiffworkflow:property name="candidateGroups" value="tier1" />
    <spiffworkflow:property name="fourEyesVariable" value="requested_by" /></spiffworkflow:properties>
    </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="e" />
  <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""", process_id="approval")

FLAKY = xml_process("""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call" />
  <bpmn:serviceTask id="call" name="Call shop"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="api_test_flaky" resultVariable="answer" /></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
  <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e" />
  <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""", process_id="flaky")

WAITER = message_process("waiter")

ROLES_OF = {"xiaowang": (["agent"], ["tier1"]), "xiaoli": (["agent"], ["tier1"]),
            "zhuanjia": (["expert"], ["tier2"]), "zhuguan": (["supervisor"], ["supervisors"]),
            "fenxi": (["analyst"], []), "shenji": (["auditor"], []), "guanli": (["admin"], ["tier1"])}


class FlakyShop:
    """The operator behind the `flaky` process: fails until told to work."""

    def __init__(self) -> None:
        self.working = False

    def __call__(self, call: Any) -> dict[str, Any]:
        if not self.working:
            raise ServiceError("the shop did not answer", code="shop_down")
        return {"ok": True}


@pytest.fixture(scope="session")
def flaky_shop(app: Flask) -> FlakyShop:
    shop = FlakyShop()
    app.extensions["kesu.runtime"].operators.register("api_test_flaky", shop)
    return shop


def api_files() -> dict[str, str]:
    """The bench models plus the API test processes, as one version."""
    files = {f"bpmn/{name}": (BENCH_MODELS / name).read_text(encoding="utf-8")
             for name in ("complaint_auto.bpmn", "complaint_user.bpmn")}
    files["bpmn/forms/review-form.json"] = (BENCH_MODELS / "review-form.json").read_text(encoding="utf-8")
    files.update({"bpmn/approval.bpmn": APPROVAL, "bpmn/flaky.bpmn": FLAKY, "bpmn/waiter.bpmn": WAITER})
    return files


@pytest.fixture
def deployed(app, db_session, clock, flaky_shop):  # type: ignore[no-untyped-def]
    flaky_shop.working = False
    definition, _ = definitions.deploy(api_files(), actor="tester", now=clock.now())
    db.session.commit()
    return definition


@pytest.fixture
def token_for(db_session, clock) -> Callable[[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """Create the named staff member (see ROLES_OF) once; return Authorization headers with a new token."""
    def make(username: str) -> dict[str, str]:
        user = db.session.query(User).filter_by(username=username).one_or_none()
        if user is None:
            roles, groups = ROLES_OF[username]
            user = User(username=username, display_name=username, roles=roles, groups=groups,
                        created_at=clock.now())
            user.set_password("not-used-here")
            db.session.add(user)
            db.session.flush()
        token, _ = api_tokens.issue_token(username, name="tests", now=clock.now())
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
def call(client: FlaskClient, token_for):  # type: ignore[no-untyped-def]
    """call(user, method, path, json=...) -> response."""
    def request(user: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = token_for(user) if user else {}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
    return request
