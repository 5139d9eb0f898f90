"""A customer reads their messages and signs a lost phone out, in the browser, from the portal header."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.customer import Customer, CustomerToken
from app.models.notification import Notification
from app.services import customers
from app.services.uow import run_command


def test_customer_reads_messages_and_signs_a_device_out(committed_app, live_server, page) -> None:
    from app.services.demo_customers import load_demo_customers
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()

        def add() -> None:
            load_demo_customers("kesu-demo", now=now)
            me = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
            customers.issue_token(me.id, name="丢失的 Pixel 8", now=now)
            db.session.add(Notification(channel="sms", recipient=str(me.id), customer_id=str(me.id),
                                        complaint_id="C-7", template="information_requested",
                                        payload={"question": "请上传快递面单照片"}, status="sent",
                                        idempotency_key="browser-1", created_at=now, sent_at=now))
        run_command(add)
        db.session.remove()
    page.goto(f"{live_server}/account/login")
    page.fill("input[name=login]", "13800000001")
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[value=password]")
    page.wait_for_url(f"{live_server}/complaints")
    page.click("header >> text=消息")
    page.wait_for_url(f"{live_server}/messages")
    assert "请补充投诉 C-7 的信息" in page.inner_text("main") and "请上传快递面单照片" in page.inner_text("main")
    page.click("header >> text=登录设备")
    page.wait_for_url(f"{live_server}/account/devices")
    assert "丢失的 Pixel 8" in page.inner_text("ul.devices")
    page.click("ul.devices button[type=submit]")
    page.wait_for_selector("text=丢失的 Pixel 8 已退出登录")
    assert "目前没有通过 App 登录的设备。" in page.inner_text("main")
    with committed_app.app_context():
        assert db.session.execute(select(CustomerToken.revoked_at)).scalar_one() is not None
        db.session.remove()
