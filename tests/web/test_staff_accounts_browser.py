"""Staff accounts in a real browser: an admin creates one and reads the password shown once, the new
agent signs in with it and sees the agent pages only; a reset signs them out; they change their own."""
from __future__ import annotations

from typing import Any

from flask import Flask

from app.extensions import db
from app.models import User

PASSWORD = "kesu-demo-root"


def _sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_create_sign_in_reset_and_change_a_password(committed_app: Flask, live_server: str, page: Any,
                                                     browser: Any) -> None:
    with committed_app.app_context():
        root = User(username="root", display_name="Root", roles=["admin"], groups=[],
                    created_at=committed_app.extensions["kesu.runtime"].clock.now())
        root.set_password(PASSWORD)
        db.session.add(root)
        db.session.commit()
    _sign_in(page, live_server, "root", PASSWORD)
    page.goto(f"{live_server}/admin/users")
    page.fill("#new-staff input[name=username]", "xiaozhao")
    page.fill("#new-staff input[name=display_name]", "小赵")
    page.check("#new-staff input[name=roles][value=agent]")
    page.check("#new-staff input[name=groups][value=tier1-product]")
    page.click("#create-staff")
    first = page.text_content("#new-password")
    assert first and len(first) >= 16 and "xiaozhao" in page.text_content("#shown-password")

    newcomer = browser.new_context(locale="zh-CN").new_page()
    _sign_in(newcomer, live_server, "xiaozhao", first)
    assert newcomer.url.endswith("/") and "Tasks 任务" in newcomer.text_content("nav.sections")
    assert "Users 用户" not in newcomer.text_content("nav.sections")
    assert newcomer.goto(f"{live_server}/admin/users").status == 403

    page.goto(f"{live_server}/admin/users")
    page.click("#reset-xiaozhao")
    second = page.text_content("#new-password")
    assert second and second != first
    newcomer.goto(f"{live_server}/tasks")
    assert "/login" in newcomer.url, "the reset signed the old session out"
    _sign_in(newcomer, live_server, "xiaozhao", second)
    newcomer.click("text=Password 密码")
    newcomer.fill("input[name=current]", second)
    newcomer.fill("input[name=new]", "my-own-password")
    newcomer.fill("input[name=repeated]", "my-own-password")
    newcomer.click("#change-password")
    assert newcomer.url.endswith("/staff/password") and newcomer.locator("p.flash").count() == 1
    newcomer.context.close()
    with committed_app.app_context():
        user = db.session.query(User).filter_by(username="xiaozhao").one()
        assert user.check_password("my-own-password")
