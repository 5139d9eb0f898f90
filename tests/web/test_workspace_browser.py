"""The agent workspace in a real browser: claim from the group queue, reply with a template, the
customer sees the reply; and two agents racing for one task, the loser told who won."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Customer, HumanTask, ReplyTemplate, User
from app.services import complaints
from app.services.complaints import Submission
from app.services.uow import run_command
from tests.support.complaints import ProcessDriver

PASSWORD = "kesu-demo"
TEMPLATE = "核实回复 Checked"


def _setup(app: Flask, upload_dir: Path) -> tuple[ProcessDriver, str, int]:
    """Demo customers, two tier-1 product agents, a reply template; 张三 complains about a 299 yuan order."""
    from app.services.demo_customers import load_demo_customers

    clock = app.extensions["kesu.runtime"].clock
    driver = ProcessDriver(app, clock)
    db.session.commit()

    def add() -> tuple[str, int]:
        now = clock.now()
        load_demo_customers(PASSWORD, now=now)
        for username, name in (("xiaowang", "小王"), ("xiaoli", "小李")):
            agent = User(username=username, display_name=name, roles=["agent"], groups=["tier1-product"],
                         created_at=now)
            agent.set_password(PASSWORD)
            db.session.add(agent)
        db.session.add(ReplyTemplate(name=TEMPLATE, category=None,
                                     body="{customer_name}您好，订单 {order_ref}（¥{amount}）的问题我们已核实，新耳机今天寄出。"))
        customer = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
        complaint, _ = complaints.submit(customer, Submission("KS-20261102-02", "product.quality", "耳机左边没声音"),
                                         upload_dir=upload_dir, now=now)
        return complaint.reference, complaint.id
    reference, complaint_id = run_command(add)
    return driver, reference, complaint_id


def _sign_in_staff(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _handle_task(app: Flask) -> HumanTask:
    with app.app_context():
        task = db.session.execute(select(HumanTask).where(HumanTask.name == "handle")).scalar_one()
        db.session.remove()
    return task


def test_agent_claims_replies_with_a_template_and_the_customer_sees_it(committed_app, live_server, page, browser,
                                                                      tmp_path: Path) -> None:
    with committed_app.app_context():
        driver, reference, complaint_id = _setup(committed_app, tmp_path)
        db.session.remove()
    try:
        _sign_in_staff(page, live_server, "xiaowang")
        page.goto(f"{live_server}/tasks?list=queue")
        page.click(f"#task-rows tr:has-text('{reference}') a")
        page.click("#claim")
        page.wait_for_selector("strong.assignee:has-text('xiaowang')")
        page.select_option("#template", label=TEMPLATE)
        page.click("#use-template")
        reply = page.input_value("#f-reply")
        assert reply == "张三您好，订单 KS-20261102-02（¥299.00）的问题我们已核实，新耳机今天寄出。", reply
        page.select_option("#f-outcome", "reply")
        page.click("#submit")
        page.wait_for_selector("text=Done: the task is completed.")
        assert reference not in page.inner_text("#task-rows"), "the completed task left My tasks"

        customer = browser.new_context(locale="zh-CN").new_page()  # a second person, their own cookies
        customer.goto(f"{live_server}/orders")
        customer.fill("input[name=login]", "13800000001")
        customer.fill("input[name=password]", PASSWORD)
        customer.click("button[value=password]")
        customer.wait_for_url(f"{live_server}/orders")
        customer.goto(f"{live_server}/complaints/{complaint_id}")
        timeline = customer.inner_text("ol.timeline")
        assert f"客服小王已回复您：{reply}" in timeline, timeline
        customer.context.close()
    finally:
        with committed_app.app_context():
            driver.restore()


def test_two_agents_race_to_claim_and_the_loser_sees_who_won(committed_app, live_server, page, browser,
                                                             tmp_path: Path) -> None:
    with committed_app.app_context():
        driver, _, _ = _setup(committed_app, tmp_path)
        db.session.remove()
    task = _handle_task(committed_app)
    other = browser.new_context(locale="zh-CN").new_page()
    try:
        _sign_in_staff(page, live_server, "xiaowang")
        _sign_in_staff(other, live_server, "xiaoli")
        for tab in (page, other):  # both open the unclaimed task
            tab.goto(f"{live_server}/tasks/{task.task_id}")
            tab.wait_for_selector("#claim")
        page.click("#claim")
        page.wait_for_selector("strong.assignee:has-text('xiaowang')")
        other.click("#claim")  # the stale page still offers Claim; the server refuses it
        other.wait_for_selector("text=already claimed by xiaowang")
        assert other.inner_text("strong.assignee") == "xiaowang"
        assert other.locator("#claim").count() == 0
    finally:
        other.context.close()
        with committed_app.app_context():
            driver.restore()
