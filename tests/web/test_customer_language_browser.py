"""A customer whose browser asks for Chinese switches the portal to English and back, in Chromium."""
from __future__ import annotations

from pathlib import Path

from app.extensions import db
from app.services.uow import run_command

SHOTS = Path(__file__).resolve().parent.parent.parent / "instance" / "screenshots"


def test_the_switcher_turns_every_page_into_english_and_back(committed_app, live_server, page) -> None:
    from app.services.demo_customers import load_demo_customers
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        run_command(lambda: load_demo_customers("kesu-demo", now=now))
        db.session.remove()
    page.goto(f"{live_server}/orders")
    assert page.inner_text("h1") == "登录", "a Chinese browser gets Chinese"
    page.fill("input[name=login]", "13800000001")
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[value=password]")
    page.wait_for_url(f"{live_server}/orders")
    assert page.inner_text("h1") == "我的订单"
    page.click("button[name=lang][value=en]")
    page.wait_for_selector("h1:text('My orders')")
    assert page.url == f"{live_server}/orders", "the switcher comes back to the same page"
    page.click("text=KS-20261102-02")
    assert "Report a problem" in page.inner_text("main") and "Payment" in page.inner_text("main")
    page.click("text=Report a problem")
    page.wait_for_selector("h1:text('New complaint')")
    page.select_option("#family", "product")
    assert "Quality defect" in page.inner_text("#category")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "complaint-form-en.png"), full_page=True)
    page.click("button[name=lang][value=zh_CN]")
    page.wait_for_selector("h1:text('我要投诉')")
    assert "质量问题" in page.inner_text("#category")
