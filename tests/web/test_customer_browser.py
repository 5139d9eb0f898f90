"""A customer signs in, submits a complaint with two photos, and watches the timeline move."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, User
from app.services import processes
from app.services.uow import run_command
from tests.customer.conftest import image_bytes
from tests.support.complaints import ProcessDriver

SHOTS = Path(__file__).resolve().parent.parent.parent / "instance" / "screenshots"


def _setup(app, now) -> ProcessDriver:  # type: ignore[no-untyped-def]
    from app.services.demo_customers import load_demo_customers

    def add() -> None:
        load_demo_customers("kesu-demo", now=now)
        agent = User(username="xiaowang", display_name="小王", roles=["agent"], groups=["tier1-product"],
                     created_at=now)
        agent.set_password("kesu-demo")
        db.session.add(agent)
    driver = ProcessDriver(app, app.extensions["kesu.runtime"].clock)
    db.session.commit()
    run_command(add)
    return driver


def open_complaint_form(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """Sign the demo customer in and open the complaint form of an order an agent handles."""
    page.goto(f"{live_server}/orders")
    page.fill("input[name=login]", "13800000001")
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[value=password]")
    page.wait_for_url(f"{live_server}/orders")
    page.click("text=KS-20261102-02")  # 299 yuan: an agent handles it (no automatic refund)
    page.click("text=问题反馈")


def test_customer_submits_with_two_photos_and_sees_the_agent_reply(committed_app, live_server, page,
                                                                   tmp_path: Path) -> None:
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        driver = _setup(committed_app, now)
        db.session.remove()
    photos = []
    for index, fmt in enumerate(("PNG", "JPEG")):
        path = tmp_path / f"photo{index}.{fmt.lower()}"
        path.write_bytes(image_bytes(fmt, size=(64, 48)))
        photos.append(str(path))
    try:
        open_complaint_form(page, live_server)
        page.select_option("#family", "product")
        page.select_option("#category", "product.quality")
        page.fill("#description", "杯子有裂纹，漏水")
        assert page.inner_text("#count") == "8", "the live counter counts as the customer types"
        page.set_input_files("input[name=images]", photos)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "complaint-form.png"), full_page=True)
        page.click("form.complaint-form button[type=submit]")
        page.wait_for_selector("ol.timeline")
        assert "您的投诉已提交" in page.inner_text("ol.timeline")
        assert page.locator(".photos img").count() == 2
        assert page.locator(".status-processing").count() == 1
        complaint_id = int(page.url.rsplit("/", 1)[1])
        with committed_app.app_context():
            task = db.session.execute(select(HumanTask).where(HumanTask.name == "handle")).scalar_one()
            clock = committed_app.extensions["kesu.runtime"].clock
            run_command(lambda: processes.claim_task(task.task_id, user="xiaowang", now=clock.now()))
            clock.advance(minutes=20)
            run_command(lambda: processes.complete_task(task.task_id, {"outcome": "reply", "reply": "已为您补发新杯子"},
                                                        actor="xiaowang", now=clock.now()))
            db.session.remove()
        page.reload()
        page.wait_for_selector("text=客服小王已回复您：已为您补发新杯子")
        assert "客服小王已接收您的问题" in page.inner_text("ol.timeline")
        assert page.locator(".status-resolved").count() == 1
        page.screenshot(path=str(SHOTS / "complaint-progress.png"), full_page=True)
        page.check("input[value=yes]")
        page.select_option("select[name=csat]", "5")
        page.click("form.confirm button[type=submit]")
        page.wait_for_selector("text=您已确认问题已解决（评分 5）")
        assert complaint_id > 0
    finally:
        with committed_app.app_context():
            driver.restore()
