"""The /kb pages: who may read and who may manage, validation messages, CSRF, archiving, the task-page
block and the customer suggestions endpoint."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ReplyTemplate
from app.models.knowledge import KbArticle
from app.services import task_page
from tests.knowledge.conftest import csrf, sign_in

ARTICLE = {"title": "退款流程", "body": "申请退款后 1-3 个工作日原路退回。", "category": "", "tags": "退款, 流程",
           "language": "zh", "status": "published"}


def _post(client: Any, url: str, data: dict[str, str], page: str = "/kb/articles/new") -> Any:
    token = csrf(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_agents_read_but_do_not_manage(client: Any, make_staff: Any, make_article: Any) -> None:
    make_staff("xiaowang", ["agent"])
    article = make_article("退款流程", "原路退回", status="published")
    draft = make_article("草稿", "未发布", status="draft")
    sign_in(client, "xiaowang")
    assert "退款流程" in client.get("/kb?q=退款").get_data(as_text=True)
    assert client.get(f"/kb/articles/{article.id}").status_code == 200
    assert client.get(f"/kb/articles/{draft.id}").status_code == 404
    assert client.get("/kb/articles/new").status_code == 403
    page = client.get("/kb").get_data(as_text=True)
    assert client.post("/kb/articles", data={**ARTICLE, "csrf_token": csrf(page)}).status_code == 403


def test_customers_and_strangers_are_kept_out(client: Any, make_staff: Any) -> None:
    make_staff("analyst", ["analyst"])
    assert client.get("/kb").status_code in (302, 401)
    sign_in(client, "analyst")
    assert client.get("/kb").status_code == 403
    assert client.get("/kb/suggestions?q=退款").status_code == 401


def test_supervisor_creates_edits_and_archives_an_article(client: Any, make_staff: Any, clock: Any) -> None:
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    response = _post(client, "/kb/articles", ARTICLE)
    assert response.status_code == 302
    article = db.session.execute(select(KbArticle)).scalar_one()
    assert (article.created_by, article.created_at, article.tags) == ("zhuguan", clock.now(), "退款,流程")
    clock.advance(minutes=5)
    response = _post(client, f"/kb/articles/{article.id}", {**ARTICLE, "title": "退款流程（新）"},
                     page=f"/kb/articles/{article.id}/edit")
    db.session.expire_all()
    assert response.status_code == 302 and article.title == "退款流程（新）" and article.updated_at == clock.now()
    _post(client, f"/kb/articles/{article.id}/archive", {}, page=f"/kb/articles/{article.id}")
    db.session.expire_all()
    assert (article.status, article.archived_by) == ("archived", "zhuguan")
    assert "退款流程" not in client.get("/kb?q=退款").get_data(as_text=True).split("Results")[1]


def test_article_validation_shows_a_message_per_field_and_saves_nothing(client: Any, make_staff: Any) -> None:
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    response = _post(client, "/kb/articles", {**ARTICLE, "title": " ", "category": "nonsense", "language": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-title"' in page and 'id="error-category"' in page and 'id="error-language"' in page
    assert "未知分类 nonsense" in page and db.session.execute(select(KbArticle)).first() is None


def test_post_without_csrf_is_refused(client: Any, make_staff: Any) -> None:
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    assert client.post("/kb/articles", data=ARTICLE).status_code == 400
    assert db.session.execute(select(KbArticle)).first() is None


def test_templates_with_variables_are_checked_and_archived_ones_not_offered(client: Any, make_staff: Any) -> None:
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    bad = _post(client, "/kb/templates", {"name": "延迟致歉", "category": "delivery.late", "language": "zh",
                                          "body": "{customer_nme}您好，订单 {order_ref} 延迟了"}, page="/kb/templates/new")
    assert bad.status_code == 422 and "未知变量 {customer_nme}" in bad.get_data(as_text=True)
    good = _post(client, "/kb/templates", {"name": "延迟致歉", "category": "delivery.late", "language": "zh",
                                           "body": "{customer_name}您好，订单 {order_ref} 的 ¥{amount} 已退回"},
                 page="/kb/templates/new")
    assert good.status_code == 302
    template = db.session.execute(select(ReplyTemplate).where(ReplyTemplate.name == "延迟致歉")).scalar_one()
    assert template.created_by == "zhuguan"
    assert template in task_page.templates_for("delivery.late")
    filled = task_page.fill_template(template, {"customer_name": "张三", "order_ref": "O-1", "amount": 12.5})
    assert filled == "张三您好，订单 O-1 的 ¥12.50 已退回"
    duplicate = _post(client, "/kb/templates", {"name": "延迟致歉", "language": "zh", "body": "x"},
                      page="/kb/templates/new")
    assert duplicate.status_code == 422 and "已有名为「延迟致歉」的模板" in duplicate.get_data(as_text=True)
    _post(client, f"/kb/templates/{template.id}/archive", {}, page="/kb/templates")
    db.session.expire_all()
    assert template.archived_by == "zhuguan" and template not in task_page.templates_for("delivery.late")


def test_cases_list_and_search(client: Any, make_staff: Any, make_case: Any) -> None:
    make_staff("xiaowang", ["agent"])
    case = make_case("C-7", "delivery.late", "refund", "已为您退款", summary="快递一个星期还没到")
    sign_in(client, "xiaowang")
    assert "C-7" in client.get("/kb/cases").get_data(as_text=True)
    page = client.get("/kb/cases?q=快递").get_data(as_text=True)
    assert f'data-kind="case" data-id="{case.id}"' in page
    shown = client.get(f"/kb/cases/{case.id}").get_data(as_text=True)
    assert "快递一个星期还没到" in shown and "not given 未评价" in shown  # C-7 has no complaint row to rate it


def test_task_page_suggests_articles_cases_and_templates(client: Any, make_staff: Any, driver: Any,
                                                        make_article: Any, make_case: Any) -> None:
    make_staff("xiaowang", ["agent"], ["tier1-product", "tier1-logistics", "tier1-billing"])
    instance_id = driver.start()
    task = driver.open_tasks(instance_id)[0]
    text = driver.data(instance_id)["text"]
    article = make_article("类似问题处理", text)
    case = make_case("C-99", task.category or "product.quality", "refund", "已退款", summary=text)
    sign_in(client, "xiaowang")
    assert "kb-suggestions" in client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    block = client.get(f"/kb/suggest/task/{task.task_id}").get_data(as_text=True)
    assert f"/kb/articles/{article.id}" in block and f"/kb/cases/{case.id}" in block
    assert "kb-suggest-templates" in block


def test_staff_reach_the_knowledge_base_and_supervisors_the_alerts_from_every_page(client: Any,
                                                                                   make_staff: Any) -> None:
    make_staff("xiaowang", ["agent"])
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "xiaowang")
    page = client.get("/kb").get_data(as_text=True)
    assert 'href="/kb"' in page and 'href="/alerts"' not in page
    client.post("/logout", data={"csrf_token": csrf(page)})
    sign_in(client, "zhuguan")
    page = client.get("/kb").get_data(as_text=True)
    assert 'href="/kb"' in page and 'href="/alerts"' in page
