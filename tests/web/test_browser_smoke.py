"""A person signs in with a real browser."""
from __future__ import annotations

from app.extensions import db
from app.models import User
from app.services.uow import run_command


def test_staff_member_signs_in_and_out_in_a_browser(committed_app, live_server, page) -> None:
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()

        def add() -> None:
            user = User(username="zhuguan", display_name="赵主管", roles=["supervisor"], groups=["supervisors"],
                        created_at=now)
            user.set_password("kesu-demo")
            db.session.add(user)
        run_command(add)
        db.session.remove()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "zhuguan")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.content()
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert page.locator(".account").inner_text().startswith("赵主管")
    page.click("text=Sign out")
    page.wait_for_url(f"{live_server}/login")
