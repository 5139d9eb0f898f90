"""The 72-hour confirmation's errors reach the customer in their language (portal and API), not the engine's English.

The engine (workflows/) checks the form and words problems in English with no idea of a
language; app/services/customer_forms.py words each failed field for the customer. Also the
form check itself: ``form_problems`` names the JSON Schema keyword per field.
"""
from __future__ import annotations

import re
from typing import Any

from app.extensions import db
from app.models import HumanTask
from app.models.complaint import Complaint
from app.services import customers
from tests.customer.test_portal import csrf, sign_in, submit
from workflows.forms import FormProblem, form_errors, form_problems

API = "/api/v1/customer"
EN = {"Accept-Language": "en-US,en;q=0.9"}
REPLY = {"outcome": "reply", "reply": "您好，已为您核实并处理。"}


def _waiting_in_app(client: Any, driver: Any, make_customer: Any, clock: Any) -> tuple[Complaint, dict[str, str], str]:
    """A complaint waiting for its customer's confirmation, the app's token header and the confirm URL."""
    customer, complaint = _waiting(client, driver, make_customer)
    header = {"Authorization": f"Bearer {customers.issue_token(customer.id, name='phone', now=clock.now())}"}
    db.session.commit()
    return complaint, header, f"{API}/complaints/{complaint.id}/confirm"


def _waiting(client: Any, driver: Any, make_customer: Any) -> tuple[Any, Complaint]:
    customer = make_customer()
    sign_in(client)
    page = submit(client).headers["Location"]
    complaint = db.session.get(Complaint, int(page.rsplit("/", 1)[1]))
    driver.complete(complaint.instance_id, "handle", REPLY, actor="xiaowang")
    return customer, complaint


def _still_open(complaint: Complaint) -> bool:
    db.session.expire_all()
    return db.session.query(HumanTask).filter_by(instance_id=complaint.instance_id, name="confirm_resolution",
                                                 status="open").count() == 1


def _flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash error">([^<]*)</p>', html)


def _confirm(client: Any, complaint: Complaint, headers: dict[str, str] | None = None, **fields: str) -> list[str]:
    page = f"/complaints/{complaint.id}"
    sent = client.post(f"{page}/confirm", data={"csrf_token": csrf(client, page), **fields}, headers=headers or {})
    assert sent.status_code == 302
    return _flashes(client.get(page, headers=headers or {}).text)


def test_portal_confirmation_errors_in_chinese(client, driver, make_customer, upload_dir) -> None:
    _customer, complaint = _waiting(client, driver, make_customer)
    assert _confirm(client, complaint, satisfied="yes") == ["请选择 1-5 分的评分"]
    assert _confirm(client, complaint, satisfied="no") == ["请告诉我们还有什么问题，以便我们重新处理"]
    assert _confirm(client, complaint, satisfied="yes", csat="9") == ["评分须为 1 到 5 之间的整数"]
    assert _confirm(client, complaint, satisfied="no", customer_comment="还" * 301) == ["内容有 301 个字，最多 300 个字"]
    assert _still_open(complaint), "a refused answer leaves the confirmation open"
    assert _confirm(client, complaint, satisfied="yes", csat="4") == []
    assert not _still_open(complaint)


def test_portal_confirmation_without_a_yes_or_no_is_refused_not_taken_as_not_solved(
        client, driver, make_customer, upload_dir) -> None:
    _customer, complaint = _waiting(client, driver, make_customer)
    assert _confirm(client, complaint, customer_comment="还是坏的") == ["请告诉我们您的问题是否已解决"]
    assert _confirm(client, complaint, satisfied="maybe", customer_comment="还是坏的") == ["请选择“已解决”或“未解决”"]
    assert _still_open(complaint), "the complaint is not reopened on an answer the customer never gave"
    assert _confirm(client, complaint, satisfied="no", customer_comment="还是坏的") == []
    assert not _still_open(complaint)


def test_portal_confirmation_errors_in_english(client, driver, make_customer, upload_dir) -> None:
    _customer, complaint = _waiting(client, driver, make_customer)
    shown = _confirm(client, complaint, EN, satisfied="yes")
    assert shown == ["Choose a rating from 1 to 5"]
    assert "this field is required" not in client.get(f"/complaints/{complaint.id}", headers=EN).text


def test_api_confirmation_errors_follow_accept_language(client, driver, make_customer, upload_dir, clock) -> None:
    complaint, header, url = _waiting_in_app(client, driver, make_customer, clock)
    chinese = client.post(url, json={"satisfied": False}, headers={**header, "Accept-Language": "zh-CN"})
    assert chinese.status_code == 422 and chinese.mimetype == "application/problem+json"
    body = chinese.get_json()
    assert body["detail"] == "您的回答还不完整，请按提示修改后重新提交"
    assert body["errors"] == [{"field": "comment", "message": "请告诉我们还有什么问题，以便我们重新处理"}], \
        "the field is named as the API body names it"
    rating = client.post(url, json={"satisfied": True}, headers={**header, "Accept-Language": "zh-CN"}).get_json()
    assert rating["errors"] == [{"field": "csat", "message": "请选择 1-5 分的评分"}]
    english = client.post(url, json={"satisfied": True}, headers=header).get_json()
    assert english["errors"] == [{"field": "csat", "message": "Choose a rating from 1 to 5"}]
    assert english["detail"] == "Your answer is not complete yet; correct what is marked and send it again"
    assert _still_open(complaint)


def test_api_confirm_body_refusals_are_worded_for_the_customer_too(client, driver, make_customer, upload_dir,
                                                                    clock) -> None:
    complaint, header, url = _waiting_in_app(client, driver, make_customer, clock)

    def fields(body: dict[str, Any], language: str | None = "zh-CN") -> dict[str, str]:
        sent = client.post(url, json=body, headers={**header, **({"Accept-Language": language} if language else {})})
        assert sent.status_code == 422 and sent.mimetype == "application/problem+json", sent.get_json()
        return {e["field"]: e["message"] for e in sent.get_json()["errors"]}

    assert fields({"satisfied": True, "csat": 6}) == {"csat": "评分须为 1 到 5 之间的整数"}, "the body's own range"
    assert fields({"satisfied": "yes"}) == {"satisfied": "请选择“已解决”或“未解决”"}
    assert fields({"satisfied": False, "comment": ""}) == {"comment": "请告诉我们还有什么问题，以便我们重新处理"}
    assert fields({"csat": 5}) == {"satisfied": "请告诉我们您的问题是否已解决"}
    assert fields({"satisfied": False, "comment": "裂" * 400}) == {"comment": "内容有 400 个字，最多 300 个字"}, \
        "the body allows 500, the form 300: the form's rule, in the same words"
    assert fields({"satisfied": True, "csat": 0}, language=None) == {"csat": "The rating is a whole number from 1 to 5"}
    assert _still_open(complaint)


def test_form_problems_name_the_failed_keyword_and_form_errors_are_unchanged() -> None:
    schema = {"type": "object", "required": ["a"], "additionalProperties": False,
              "properties": {"a": {"type": "integer", "maximum": 5}, "b": {"type": "string", "maxLength": 3}}}
    problems = form_problems(schema, {"a": 9, "b": "long", "c": 1})
    by_path = {p.path: p for p in problems}
    assert by_path["a"] == FormProblem("a", "maximum", "9 is greater than the maximum of 5", 5)
    assert by_path["b"] == FormProblem("b", "maxLength", "is 4 characters; write at most 3", 3, 4)
    assert by_path["c"] == FormProblem("c", "additionalProperties", "unknown field; send a, b", ["a", "b"])
    assert form_problems(schema, {})[0] == FormProblem("a", "required", "this field is required")
    assert form_errors(schema, {}) == {"a": "this field is required"}
    assert form_problems(schema, {"a": 1}) == [] and form_errors(schema, {"a": 1}) == {}


def test_api_confirm_names_an_unknown_field_and_what_to_send(client, driver, make_customer, upload_dir,
                                                             clock) -> None:
    complaint, header, url = _waiting_in_app(client, driver, make_customer, clock)
    english = client.post(url, json={"satisfied": True, "rating": 5}, headers=header)
    assert english.status_code == 422
    assert english.get_json()["errors"] == [{"field": "rating",
                                             "message": "Unknown field; send only satisfied, csat, comment"}]
    chinese = client.post(url, json={"satisfied": True, "rating": 5}, headers={**header, "Accept-Language": "zh-CN"})
    assert chinese.get_json()["errors"] == [{"field": "rating", "message": "未知字段；请只发送 satisfied, csat, comment"}]
    assert _still_open(complaint)
