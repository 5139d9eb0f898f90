"""The agent workspace in a real browser: claim from the group queue, reply with a template, the
customer sees the reply; two agents racing for one task, the loser told who won; a supervisor
reassigning a breached task."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Customer, HumanTask, ReplyTemplate, User
from app.services import complaints, processes
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
        page.select_option("#f-outcome", "reply")
        page.fill("#f-reply", "张三您好，抱歉让您久等。")  # typed before choosing a template: it must stay
        page.select_option("#template", label=TEMPLATE)
        page.click("#use-template")
        page.wait_for_selector("#template-status:has-text('Inserted')")
        filled = "张三您好，订单 KS-20261102-02（¥299.00）的问题我们已核实，新耳机今天寄出。"
        reply = page.input_value("#f-reply")
        assert reply == f"张三您好，抱歉让您久等。\n{filled}", reply  # no reload: typed text, then the template
        assert page.input_value("#f-outcome") == "reply", "the chosen outcome survived"
        assert "template=" not in page.url
        page.reload()  # navigating away and back: the draft is restored from localStorage
        page.wait_for_selector("#draft-restored")
        assert page.input_value("#f-reply") == reply and page.input_value("#f-outcome") == "reply"
        page.click("#submit")
        page.wait_for_selector("text=Done: the task is completed.")
        assert reference not in page.inner_text("#task-rows"), "the completed task left My tasks"
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kesu.task-draft.'))") == [], \
            "the draft is cleared once submitted"

        customer = browser.new_context(locale="zh-CN").new_page()  # a second person, their own cookies
        customer.goto(f"{live_server}/orders")
        customer.fill("input[name=login]", "13800000001")
        customer.fill("input[name=password]", PASSWORD)
        customer.click("button[value=password]")
        customer.wait_for_url(f"{live_server}/orders")
        customer.goto(f"{live_server}/complaints/{complaint_id}")
        timeline = customer.inner_text("ol.timeline")
        assert f"客服小王已回复您：{' '.join(reply.split())}" in " ".join(timeline.split()), timeline
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


def test_the_supervisor_sees_a_breach_and_reassigns_it(committed_app, live_server, page, tmp_path: Path) -> None:
    with committed_app.app_context():
        driver, reference, _ = _setup(committed_app, tmp_path)
        db.session.remove()
    task, clock = _handle_task(committed_app), committed_app.extensions["kesu.runtime"].clock

    def add_supervisor_and_claim() -> None:
        boss = User(username="zhuguan", display_name="主管", roles=["supervisor"], groups=["supervisors"],
                    created_at=clock.now())
        boss.set_password(PASSWORD)
        db.session.add(boss)
        processes.claim_task(task.task_id, user="xiaowang", now=clock.now())
    with committed_app.app_context():
        run_command(add_supervisor_and_claim)
        db.session.remove()
    clock.set(task.due_at + timedelta(minutes=10))
    try:
        _sign_in_staff(page, live_server, "zhuguan")
        page.goto(f"{live_server}/tasks/supervisor")
        row = page.locator(f"section:has-text('SLA breaches') tr:has-text('{reference}')")
        assert "xiaowang" in row.inner_text()
        assert "xiaowang" in page.inner_text("section:has-text('Workload per agent')")
        row.locator("select[name=username]").select_option("xiaoli")
        row.locator("button:has-text('Reassign')").click()
        page.wait_for_selector("text=Reassigned to xiaoli.")
        assert "xiaoli" in page.inner_text(f"section:has-text('SLA breaches') tr:has-text('{reference}')")
        assert "xiaowang" not in page.inner_text("section:has-text('Workload per agent')")
    finally:
        with committed_app.app_context():
            driver.restore()


def test_a_draft_survives_leaving_the_page_until_discarded_and_a_withdrawn_template_is_explained(
        committed_app, live_server, page, tmp_path: Path) -> None:
    with committed_app.app_context():
        driver, _, _ = _setup(committed_app, tmp_path)
        db.session.remove()
    task = _handle_task(committed_app)
    clock = committed_app.extensions["kesu.runtime"].clock
    try:
        _sign_in_staff(page, live_server, "xiaowang")
        page.goto(f"{live_server}/tasks/{task.task_id}")
        page.select_option("#f-outcome", "reship")
        page.fill("#f-reply", "马上为您补发")
        page.goto(f"{live_server}/tasks?list=queue")  # away, then back
        page.goto(f"{live_server}/tasks/{task.task_id}")
        page.wait_for_selector("#draft-restored")
        assert (page.input_value("#f-reply"), page.input_value("#f-outcome")) == ("马上为您补发", "reship")
        page.click("#discard-draft")
        assert (page.input_value("#f-reply"), page.input_value("#f-outcome")) == ("", "")
        page.reload()
        assert page.locator("#draft-restored").count() == 0 and page.input_value("#f-reply") == ""

        def archive() -> None:  # withdrawn in the knowledge base while the page is open
            template = db.session.execute(select(ReplyTemplate).where(ReplyTemplate.name == TEMPLATE)).scalar_one()
            template.archived_at = clock.now()
        with committed_app.app_context():
            run_command(archive)
            db.session.remove()
        page.fill("#f-reply", "已核实")
        page.select_option("#template", label=TEMPLATE)
        page.click("#use-template")
        page.wait_for_selector("#template-status:has-text('is not offered for this task')")
        assert page.input_value("#f-reply") == "已核实", "a refused template changes nothing"
    finally:
        with committed_app.app_context():
            driver.restore()
