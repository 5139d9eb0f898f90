"""A supervisor signs a customer's stolen phone out in the browser: top bar, search by phone, sign-out button."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.customer import Customer, CustomerToken
from app.services import customers
from app.services.uow import run_command
from tests.web.test_workspace_browser import PASSWORD, _sign_in_staff


def test_a_supervisor_signs_a_stolen_phone_out(committed_app, live_server, page) -> None:
    from app.services.demo_customers import load_demo_customers
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()

        def add() -> None:
            load_demo_customers(PASSWORD, now=now)
            boss = User(username="zhuguan", display_name="主管", roles=["supervisor"], groups=["supervisors"],
                        created_at=now)
            boss.set_password(PASSWORD)
            db.session.add(boss)
            me = db.session.execute(select(Customer).where(Customer.phone == "13800000001")).scalar_one()
            customers.issue_token(me.id, name="被盗的 iPhone", now=now)
            customers.issue_token(me.id, name="家里的 iPad", now=now)
        run_command(add)
        db.session.remove()
    _sign_in_staff(page, live_server, "zhuguan")
    page.click("nav.sections >> text=Customer devices 客户设备")
    page.wait_for_url(f"{live_server}/admin/customers")
    page.fill("input[name=q]", "13800000001")
    page.click("#customer-search button[type=submit]")
    page.wait_for_selector("table.devices")
    assert "被盗的 iPhone" in page.inner_text("table.devices") and "家里的 iPad" in page.inner_text("table.devices")
    page.click("tr.device:has-text('被盗的 iPhone') button[type=submit]")
    page.wait_for_selector("text=被盗的 iPhone 已退出登录")
    assert "被盗的 iPhone" not in page.inner_text("table.devices") and "家里的 iPad" in page.inner_text("table.devices")
    with committed_app.app_context():
        revoked = db.session.execute(select(CustomerToken.name).where(CustomerToken.revoked_at.is_not(None))).scalars()
        assert list(revoked) == ["被盗的 iPhone"]
        db.session.remove()
