"""The staff top bar and start page: each role reaches its own pages, and only pages it may open."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import User

PASSWORD = "correct horse"

# role -> (top-bar paths it must show, paths it must not show)
EXPECTED = {
    "agent": ({"/tasks", "/kb"}, {"/tasks/supervisor", "/dashboard", "/alerts", "/studio", "/audit", "/refunds",
                                  "/admin/customers"}),
    "supervisor": ({"/tasks", "/tasks/supervisor", "/dashboard", "/alerts", "/outbox", "/kb", "/admin/customers"},
                   {"/studio", "/audit", "/refunds", "/admin/users"}),
    "finance": ({"/tasks", "/dashboard", "/refunds", "/kb"}, {"/alerts", "/studio", "/audit"}),
    "analyst": ({"/studio", "/dashboard"}, {"/tasks", "/kb", "/audit", "/refunds"}),
    "auditor": ({"/audit"}, {"/tasks", "/dashboard", "/studio", "/kb"}),
    "admin": ({"/tasks", "/studio", "/audit", "/refunds", "/admin/users", "/dashboard", "/admin/customers"}, set()),
}


def _sign_in(client, db_session, clock, role: str) -> None:  # type: ignore[no-untyped-def]
    user = User(username=f"nav-{role}", display_name=role, roles=[role], groups=[], created_at=clock.now())
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def _top_bar_paths(html: str) -> set[str]:
    bar = re.search(r'<nav class="sections">(.*?)</nav>', html, re.S).group(1)
    return set(re.findall(r'href="([^"]+)"', bar))


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_top_bar_links_each_role_to_its_pages_and_every_link_opens(client, db_session, clock, role) -> None:
    _sign_in(client, db_session, clock, role)
    must, must_not = EXPECTED[role]
    start = client.get("/").get_data(as_text=True)
    shown = _top_bar_paths(start)
    assert must <= shown, f"{role} misses {must - shown}"
    assert not (shown & must_not), f"{role} sees {shown & must_not}"
    start_links = set(re.findall(r'<ul class="start-links">(.*?)</ul>', start, re.S)[0].split('"')[1::2]) - {""}
    assert shown <= start_links | {"/"}  # the start page lists the same pages
    for path in sorted(shown):
        page = client.get(path)
        assert page.status_code == 200, f"{role}: {path} answered {page.status_code}"
        assert re.search(rf'<a href="{re.escape(path)}" aria-current="page">', page.get_data(as_text=True))


def test_signed_out_start_page_points_to_both_sign_ins(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in page and 'href="/account/login"' in page
    assert '<nav class="sections">' not in page


def test_staff_sign_in_page_is_chinese_first(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "员工登录 Staff sign in" in page and "用户名 Username" in page


@pytest.mark.parametrize("path", ["/login", "/account/login"])
def test_pages_name_an_icon_that_exists(client, path) -> None:
    """Browsers ask for /favicon.ico (a 404 in the console) unless the page names an icon."""
    icon = re.search(r'<link rel="icon" href="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)
    answer = client.get(icon)
    try:
        assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    finally:
        answer.close()
