"""In a browser: the agent asks for more information, the customer reads the question and answers it."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.services import processes
from app.services.uow import run_command
from tests.web.test_customer_browser import _setup, open_complaint_form


def test_customer_answers_the_agents_question_on_the_progress_page(committed_app, live_server, page) -> None:
    with committed_app.app_context():
        driver = _setup(committed_app, committed_app.extensions["kesu.runtime"].clock.now())
        db.session.remove()
    try:
        open_complaint_form(page, live_server)
        page.select_option("#family", "product")
        page.select_option("#category", "product.quality")
        page.fill("#description", "杯子有裂纹，漏水")
        page.click("form.complaint-form button[type=submit]")
        page.wait_for_selector("ol.timeline")
        with committed_app.app_context():
            task = db.session.execute(select(HumanTask).where(HumanTask.name == "handle")).scalar_one()
            clock = committed_app.extensions["kesu.runtime"].clock
            run_command(lambda: processes.complete_task(task.task_id, {
                "outcome": "more_info", "reply": "您好，需要您补充信息", "info_request": "裂纹在杯子的哪个位置？"},
                actor="xiaowang", now=clock.now()))
            db.session.remove()
        page.reload()
        assert page.inner_text("#question") == "裂纹在杯子的哪个位置？"
        assert "请在" in page.inner_text("form.information .deadline")
        page.fill("#additional_info", "在杯底，靠近把手")
        page.wait_for_timeout(16000)   # an open progress page reloads every 15 s, but never while a question waits
        assert page.input_value("#additional_info") == "在杯底，靠近把手", "the page reloaded and lost the answer"
        page.click("form.information button[type=submit]")
        page.wait_for_selector("text=您已回答：在杯底，靠近把手")
        assert page.locator("#question").count() == 0
        with committed_app.app_context():
            assert [t.name for t in db.session.execute(select(HumanTask).where(
                HumanTask.status == "open")).scalars()] == ["handle"]
            db.session.remove()
    finally:
        with committed_app.app_context():
            driver.restore()
