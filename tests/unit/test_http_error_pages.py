"""HTTP errors of pages (unknown address, wrong method, lost session, too many sign-ins) are a page in the
site's layout with what to do next, in Chinese and English, not the framework's bare English page; the API
keeps answering problem+json."""
from __future__ import annotations

from werkzeug.exceptions import TooManyRequests

from app.errors import http_error_page


def test_an_unknown_address_is_a_page_with_a_way_home(client) -> None:
    answer = client.get("/no-such-page")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert "页面不存在 / Page not found" in page and 'id="error-back">首页 / Home</a>' in page
    assert "The requested URL was not found on the server" not in page


def test_a_wrong_method_and_a_missing_csrf_token_say_what_to_do(client) -> None:
    answer = client.get("/account/logout")
    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert "请从页面上的按钮或链接操作" in answer.get_data(as_text=True)
    answer = client.post("/account/logout")
    assert answer.status_code == 400
    assert "页面可能已过期，请刷新后重试" in answer.get_data(as_text=True)
    assert "The CSRF token is missing" not in answer.get_data(as_text=True)


def test_too_many_sign_ins_ask_to_wait(app) -> None:
    with app.test_request_context("/account/login", method="POST"):
        html, status, _headers = http_error_page(TooManyRequests("10 per 1 minute"))
    assert status == 429 and "操作太频繁 / Too many attempts" in html and "请稍等一分钟再试" in html


def test_the_api_still_answers_problem_json(client) -> None:
    answer = client.get("/api/v1/no-such-endpoint")
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
