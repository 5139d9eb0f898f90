"""Gateway variables no earlier step produces, the studio's body limit, and new forms in a draft."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models.studio import StudioDraft
from app.services import studio
from tests.support.language import EN
from tests.support.studio import DATA, engine_files, leave_files, make_draft
from workflows.validation import validate_files

BPMN = "bpmn/complaint_engine.bpmn"
PAY = (DATA / "trial_errors.bpmn").read_text(encoding="utf-8")


def _warnings(files: dict[str, str]) -> list[str]:
    return [f"[{p.element_id}] {p.message}" for p in validate_files(files) if p.severity == "warning"]


def test_a_gateway_reading_a_variable_set_only_later_is_warned() -> None:
    files = engine_files()
    files[BPMN] = files[BPMN].replace("amount &lt; 50", "amount &lt; 50 and not refund")
    assert _warnings(files) == ["[gw_auto] condition reads `refund`, which only later steps set (Refund at once); "
                                "the gateway runs before them"]


def test_a_decision_output_that_looks_like_a_duration_must_be_one() -> None:
    files = engine_files()
    assert [p for p in validate_files(files) if p.severity == "error"] == []
    files["rules/priority.dmn"] = files["rules/priority.dmn"].replace('"PT30M"', '"PT30X"', 1)
    [problem] = [p for p in validate_files(files) if p.severity == "error"]
    assert "output `\"PT30X\"` looks like an ISO 8601 duration but is not one" in problem.message
    files["rules/priority.dmn"] = files["rules/priority.dmn"].replace('"PT30X"', '"Priority"', 1)
    assert [p for p in validate_files(files) if p.severity == "error"] == []  # a word, not a duration


def test_a_timer_that_is_no_iso_8601_value_is_refused_with_an_example() -> None:
    files = engine_files()
    files[BPMN] = files[BPMN].replace('tFormalExpression">sla<', 'tFormalExpression">"PT2X"<', 1)
    [problem] = [p for p in validate_files(files) if p.severity == "error"]
    assert problem.message == ('timer expression `"PT2X"` is not an ISO 8601 duration, date or cycle '
                               '(write e.g. "PT2H", "P3D", "R3/PT10M" — with the quotes)')
    files[BPMN] = files[BPMN].replace('"PT2X"', '"PT2H"')
    assert [p for p in validate_files(files) if p.severity == "error"] == []


def test_with_a_start_form_every_unproduced_variable_is_warned() -> None:
    start_form = ('<bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>'
                  '<spiffworkflow:property name="formKey" value="request" /></spiffworkflow:properties>'
                  '</bpmn:extensionElements><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>')
    text = PAY.replace('<bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>', start_form)
    form = json.dumps({"type": "object", "properties": {"amount": {"type": "number"}}})
    files = {"bpmn/pay.bpmn": text, "bpmn/forms/request.json": form}
    assert _warnings(files) == []  # amount from the start form, payment from the service result
    files["bpmn/pay.bpmn"] = text.replace('payment["paid"] == amount', 'payment["paid"] == amount and approved')
    assert _warnings(files) == ["[gw_paid] condition reads `approved`, which no earlier step produces (not in the "
                                "start form, a script, a decision, a service result or a form before it)"]


def test_variables_from_scripts_decisions_and_forms_count_as_produced() -> None:
    files = engine_files()
    files[BPMN] = files[BPMN].replace("amount &lt; 50", "amount &lt; 50 and angry and priority == 'high'")
    assert _warnings(files) == []


@pytest.fixture
def analyst_client(app, client, db_session, clock):  # type: ignore[no-untyped-def]
    from tests.support.studio import add_analysts, sign_in
    add_analysts(clock.now())
    sign_in(client, "li")
    app.config["WTF_CSRF_ENABLED"] = False
    yield client
    app.config["WTF_CSRF_ENABLED"] = True


def test_a_50_mb_upload_is_refused_with_413_before_it_is_read(analyst_client) -> None:  # type: ignore[no-untyped-def]
    data = b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>"
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(data), filename="huge.bpmn")}))
    response = analyst_client.post("/studio/import", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                                   headers={"Accept": "application/json", **EN})
    assert response.status_code == 413
    assert "the upload is larger than the studio accepts (2,097,152 bytes per diagram)" in response.get_json()["detail"]
    page = analyst_client.post("/studio/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert page.status_code == 413 and "请拆分流程图或删除嵌入的图片" in page.get_data(as_text=True), "Chinese by default"
    assert db.session.execute(select(func.count()).select_from(StudioDraft)).scalar() == 0


def test_a_new_form_is_created_and_opens_in_the_form_editor(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(leave_files(), clock.now())
    response = analyst_client.post(f"/studio/drafts/{draft.id}/forms", data={"name": "refund_check"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/studio/drafts/{draft.id}/edit?path=bpmn/forms/refund_check.json")
    schema = json.loads(studio.file_content(draft, "bpmn/forms/refund_check.json"))
    assert schema["type"] == "object" and "refund_check" in studio.form_keys(draft)
    page = analyst_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="form-source"' in page and 'id="form-preview"' in page
    with pytest.raises(Conflict, match="already has form 'refund_check'"):
        studio.new_form(draft.id, "refund_check", actor="li", now=clock.now())
    with pytest.raises(ValidationFailed, match="is not allowed"):
        studio.new_form(draft.id, "../x", actor="li", now=clock.now())
