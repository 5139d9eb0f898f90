"""The customer answers the agent's question (request_info) on the progress page and in the app API.

An agent's outcome "more_info" sends the question and opens the customer's request_info task
(72 hours, then the complaint is closed). The answer is checked against the provide_information
form in the customer's language, completes the task and sends the case back to the agent.
"""
from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import HumanTask, Notification
from app.models.complaint import Complaint, ComplaintAttachment
from app.services import customers, outbox
from app.services.shop_time import shop_time
from tests.customer.conftest import image_bytes
from tests.customer.test_portal import csrf, sign_in, submit
from tests.support.staff import sign_in as staff_sign_in

API = "/api/v1/customer"
QUESTION = "请拍一张裂纹的照片"
MORE_INFO = {"outcome": "more_info", "reply": "您好，需要您补充信息", "info_request": QUESTION}


def _asked(client: Any, driver: Any, make_customer: Any, make_staff: Any) -> tuple[Any, Any]:
    """A customer's complaint whose agent asked QUESTION: request_info is open.

    The complaint as its ids (id, instance_id): the worker run by driver.advance ends the session.
    """
    customer = make_customer()
    sign_in(client)
    page = submit(client).headers["Location"]
    row = db.session.get(Complaint, int(page.rsplit("/", 1)[1]))
    complaint = SimpleNamespace(id=row.id, instance_id=row.instance_id)
    driver.complete(complaint.instance_id, "handle", MORE_INFO, actor="xiaowang")
    driver.task(complaint.instance_id, "request_info")
    return customer, complaint


def _request_info(complaint: Any) -> list[str]:
    db.session.expire_all()
    return [t.status for t in db.session.execute(select(HumanTask).where(
        HumanTask.instance_id == complaint.instance_id, HumanTask.name == "request_info")
        .order_by(HumanTask.id)).scalars()]


def _answer(client: Any, complaint: Any, text: str, **extra: Any) -> Any:
    page = f"/complaints/{complaint.id}"
    data = {"csrf_token": csrf(client, page), "additional_info": text, **extra}
    return client.post(f"{page}/information", data=data, content_type="multipart/form-data")


def _photos(complaint: Any) -> int:
    return db.session.execute(select(func.count(ComplaintAttachment.id))
                              .where(ComplaintAttachment.complaint_id == complaint.id)).scalar_one()


def _bearer(customer: Any, clock: Any) -> dict[str, str]:
    token = customers.issue_token(customer.id, name="phone", now=clock.now())
    db.session.commit()
    return {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}


def test_the_progress_page_shows_the_question_with_its_deadline_and_the_answer_goes_back_to_the_agent(
        app, client, driver, make_customer, make_staff, upload_dir, clock) -> None:
    _customer, complaint = _asked(client, driver, make_customer, make_staff)
    deadline = driver.task(complaint.instance_id, "request_info").due_at
    page = client.get(f"/complaints/{complaint.id}").text
    assert f'<p class="question" id="question"><strong>{QUESTION}</strong></p>' in page
    assert shop_time(deadline, "%m-%d %H:%M") in page and 'name="additional_info" maxlength="300"' in page

    sent = _answer(client, complaint, "  裂纹在杯底，照片已附上  ", images=[(io.BytesIO(image_bytes()), "crack.png")])
    assert sent.status_code == 302 and sent.headers["Location"] == f"/complaints/{complaint.id}"
    assert _request_info(complaint) == ["completed"]
    handle = driver.task(complaint.instance_id, "handle")   # back at the agent, per the BPMN
    data = driver.data(complaint.instance_id)
    assert (data["additional_info"], data["additional_images"]) == ("裂纹在杯底，照片已附上", 1)
    assert _photos(complaint) == 1, "the photo sent with the answer, re-encoded like the complaint's own"
    shown = client.get(f"/complaints/{complaint.id}").text
    assert "您已回答：裂纹在杯底，照片已附上" in shown
    assert 'id="question"' not in shown and "谢谢，您的回答已发送" in shown

    make_staff("laowang", groups=[handle.candidate_group])
    staff_sign_in(client, "laowang")   # the same client: flask-wtf keeps the CSRF token of the test's app context
    task_page = client.get(f"/tasks/{handle.task_id}").text
    assert re.search(r'id="customer-answer">Asked 提问: 请拍一张裂纹的照片<br>\s*Customer\'s answer 客户补充: '
                     r'<strong>裂纹在杯底，照片已附上</strong>', task_page), task_page


def test_an_empty_or_too_long_answer_is_refused_with_the_form_again_and_nothing_written(
        client, driver, make_customer, make_staff, upload_dir) -> None:
    _customer, complaint = _asked(client, driver, make_customer, make_staff)
    empty = _answer(client, complaint, "   ", images=[(io.BytesIO(image_bytes()), "crack.png")])
    assert empty.status_code == 422
    assert '<li data-field="additional_info">请写下您对问题的回答（至少 2 个字）</li>' in empty.text
    assert 'id="question"' in empty.text, "the question and the form are shown again"
    long = _answer(client, complaint, "裂" * 301)
    assert long.status_code == 422 and "内容有 301 个字，最多 300 个字" in long.text
    assert ">" + "裂" * 301 + "</textarea>" in long.text, "what the customer wrote is kept"
    assert _request_info(complaint) == ["open"] and _photos(complaint) == 0
    assert "additional_info" not in driver.data(complaint.instance_id)


def test_answering_twice_or_after_the_72_hours_is_a_409_with_a_clear_message(
        client, driver, make_customer, make_staff, upload_dir) -> None:
    _customer, complaint = _asked(client, driver, make_customer, make_staff)
    assert _answer(client, complaint, "在杯底").status_code == 302
    twice = _answer(client, complaint, "再说一次")
    assert twice.status_code == 409 and "您已经回答过这个问题" in twice.text
    assert driver.data(complaint.instance_id)["additional_info"] == "在杯底"

    driver.complete(complaint.instance_id, "handle", {**MORE_INFO, "info_request": "请提供订单截图"}, actor="xiaowang")
    assert "请提供订单截图" in client.get(f"/complaints/{complaint.id}").text, "the second question is shown"
    driver.advance(hours=73)
    assert _request_info(complaint) == ["completed", "cancelled"]
    late = _answer(client, complaint, "截图来了")
    assert late.status_code == 409 and "回答的 72 小时已过" in late.text
    assert "72 小时内未收到您补充的信息，投诉已关闭" in late.text


def test_another_customers_complaint_is_404_and_a_missing_csrf_token_400(
        client, driver, make_customer, make_staff, upload_dir, clock) -> None:
    _owner, complaint = _asked(client, driver, make_customer, make_staff)
    url = f"/complaints/{complaint.id}/information"
    assert client.post(url, data={"additional_info": "在杯底"}).status_code == 400
    assert _request_info(complaint) == ["open"]
    someone_else = make_customer(name="李四", phone="13900000002", order_refs=("O-2",))
    client.post("/account/logout", data={"csrf_token": csrf(client, "/complaints")})
    sign_in(client, login="13900000002")
    token = csrf(client, "/complaints")
    assert client.post(url, data={"csrf_token": token, "additional_info": "在杯底"}).status_code == 404
    other = _bearer(someone_else, clock)
    api = client.post(f"{API}/complaints/{complaint.id}/information", json={"answer": "在杯底"}, headers=other)
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert client.get(f"{API}/complaints/{complaint.id}", headers=other).status_code == 404
    assert _request_info(complaint) == ["open"]


def test_the_app_sees_the_pending_question_and_answers_it(client, driver, make_customer, make_staff, upload_dir,
                                                         clock) -> None:
    customer, complaint = _asked(client, driver, make_customer, make_staff)
    header = _bearer(customer, clock)
    shown = client.get(f"{API}/complaints/{complaint.id}", headers=header).get_json()
    deadline = driver.task(complaint.instance_id, "request_info").due_at
    assert shown["pending_question"] == {"question": QUESTION, "deadline": deadline.isoformat()}
    url = f"{API}/complaints/{complaint.id}/information"

    def refused(body: dict[str, Any]) -> dict[str, str]:
        sent = client.post(url, json=body, headers=header)
        assert sent.status_code == 422 and sent.mimetype == "application/problem+json", sent.get_json()
        return {e["field"]: e["message"] for e in sent.get_json()["errors"]}
    assert refused({"answer": " "}) == {"answer": "请写下您对问题的回答（至少 2 个字）"}
    assert refused({"answer": ""}) == {"answer": "请写下您对问题的回答（至少 2 个字）"}
    assert refused({"answer": "裂" * 301}) == {"answer": "内容有 301 个字，最多 300 个字"}
    assert refused({}) == {"answer": "请写下您对问题的回答（至少 2 个字）"}
    assert refused({"answer": "在杯底", "photos": 1}) == {"photos": "未知字段；请只发送 answer"}
    assert _request_info(complaint) == ["open"]

    answered = client.post(url, json={"answer": "裂纹在杯底"}, headers=header)
    assert answered.status_code == 200, answered.get_json()
    body = answered.get_json()
    assert body["pending_question"] is None and "您已回答：裂纹在杯底" in [e["text"] for e in body["timeline"]]
    assert driver.data(complaint.instance_id)["additional_info"] == "裂纹在杯底"
    driver.task(complaint.instance_id, "handle")
    again = client.post(url, json={"answer": "裂纹在杯底"}, headers=header)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert "您已经回答过这个问题" in again.get_json()["detail"]


def test_the_app_after_the_72_hours_gets_a_409_that_says_so(client, driver, make_customer, make_staff, upload_dir,
                                                          clock) -> None:
    customer, complaint = _asked(client, driver, make_customer, make_staff)
    header = _bearer(customer, clock)
    driver.advance(hours=73)
    assert client.get(f"{API}/complaints/{complaint.id}", headers=header).get_json()["pending_question"] is None
    late = client.post(f"{API}/complaints/{complaint.id}/information", json={"answer": "裂纹在杯底"}, headers=header)
    assert late.status_code == 409 and "回答的 72 小时已过" in late.get_json()["detail"]


def test_the_information_requested_message_sends_the_customer_to_the_progress_page(
        app, client, driver, make_customer, make_staff, upload_dir) -> None:
    _asked(client, driver, make_customer, make_staff)
    row = db.session.execute(select(Notification).where(Notification.template == "information_requested")).scalar_one()
    for language, words in (("zh", "投诉进度页"), ("en", "progress page")):
        _subject, text = outbox.render(row, app.jinja_env, language=language)
        assert QUESTION in text and words in text and "72" in text
