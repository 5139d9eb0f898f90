"""The complaint form's suggestions: a signed-in customer gets published articles only, never cases."""
from __future__ import annotations

from typing import Any

from tests.customer.test_portal import sign_in as customer_sign_in


def test_customer_gets_published_articles_only(client: Any, make_customer: Any, make_article: Any,
                                               make_case: Any) -> None:
    make_customer()
    published = make_article("快递延迟怎么办", "快递超过 7 天没到可以申请退款。", category="delivery.late")
    make_article("快递延迟（草稿）", "快递超过 7 天没到", category="delivery.late", status="draft")
    make_case("C-5", "delivery.late", "refund", "李四您好，快递延迟已为您退款", summary="快递一个星期还没到 13900000002")
    customer_sign_in(client)
    body = client.get("/kb/suggestions", query_string={"q": "快递一个星期还没到", "category": "delivery.late"}).json
    assert [a["id"] for a in body["articles"]] == [published.id]
    assert "李四" not in str(body) and "C-5" not in str(body)
    page = client.get(body["articles"][0]["url"])
    assert page.status_code == 200 and "快递超过 7 天没到可以申请退款" in page.text


def test_suggestions_need_a_customer_and_drafts_stay_hidden(client: Any, make_customer: Any,
                                                            make_article: Any) -> None:
    draft = make_article("草稿", "未发布的内容", status="draft")
    assert client.get("/kb/suggestions?q=快递").status_code == 401
    assert client.get(f"/kb/help/{draft.id}").status_code == 302
    make_customer()
    customer_sign_in(client)
    assert client.get(f"/kb/help/{draft.id}").status_code == 404
    assert client.get("/kb/suggestions?q=").json == {"articles": []}


def test_complaint_form_has_the_suggestion_block(client: Any, make_customer: Any) -> None:
    make_customer()
    customer_sign_in(client)
    page = client.get("/complaints/new").text
    assert 'id="kb-suggestions"' in page and 'data-url="/kb/suggestions"' in page and "可能对您有帮助" in page


def test_customer_side_carries_the_portal_security_headers(client: Any, make_customer: Any, make_article: Any) -> None:
    article = make_article("退款流程", "原路退回")
    make_customer()
    customer_sign_in(client)
    for path in ("/kb/suggestions?q=退款&category=%25", f"/kb/help/{article.id}"):
        response = client.get(path)
        assert response.status_code == 200 and "script-src" in response.headers["Content-Security-Policy"]
