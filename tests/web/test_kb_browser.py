"""Knowledge base in the browser: the complaint form suggests published articles as the customer
types; a supervisor sees an alert on the dashboard panel and acknowledges it."""
from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import User
from app.services import alerts
from app.services.demo_customers import load_demo_customers
from app.services.demo_knowledge import load_demo_articles
from app.services.uow import run_command
from tests.dashboard.conftest import Seeder


def test_complaint_form_suggests_articles_while_typing(committed_app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        run_command(lambda: (load_demo_customers("kesu-demo", now=now), load_demo_articles(now=now)))
        db.session.remove()
    page.goto(f"{live_server}/account/login")
    page.fill("input[name=login]", "13800000001")
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[value=password]")
    page.goto(f"{live_server}/complaints/new")
    assert page.is_hidden("#kb-suggestions"), "nothing is suggested before the customer types"
    page.select_option("#family", "delivery")
    page.select_option("#category", "delivery.late")
    page.type("#description", "快递一个星期了还没到", delay=20)
    page.wait_for_selector("#kb-suggestions li")
    titles = page.locator("#kb-suggestions li a").all_inner_texts()
    assert titles[0] == "快递迟迟未到怎么办", titles
    assert "可能对您有帮助" in page.inner_text("#kb-suggestions h2")


def test_supervisor_acknowledges_an_alert_from_the_dashboard(committed_app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()

        def seed() -> None:
            user = User(username="zhuguan", display_name="赵主管", roles=["supervisor"], groups=["supervisors"],
                        created_at=now)
            user.set_password("kesu-demo")
            db.session.add(user)
            seeder = Seeder(now)
            for _ in range(5):
                seeder.complaint(now - timedelta(hours=1), product="空气炸锅", text="炸锅不加热")
            alerts.evaluate(now)
        run_command(seed)
        db.session.remove()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "zhuguan")
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[type=submit]")
    page.goto(f"{live_server}/dashboard")
    page.wait_for_selector("#alerts-panel li.alert-row")
    page.click("#alerts-panel li.alert-row a")
    assert page.locator("tr.complaint-row").count() == 5
    page.click("#acknowledge")
    assert "Acknowledged by 确认人 zhuguan" in page.inner_text("#acknowledgement")
