"""Every page carries security headers: the staff pages (studio and audit included) get the app-wide
policy, the customer pages keep their own."""
from __future__ import annotations

import pytest

from app.views.access import STAFF_CSP
from tests.support.studio import add_analysts, sign_in


@pytest.mark.parametrize("path", ["/tasks", "/dashboard", "/kb", "/alerts", "/outbox"])
def test_staff_pages_forbid_inline_scripts_and_framing(client, clock, path: str) -> None:
    add_analysts(clock.now())
    sign_in(client, "zhuguan")
    response = client.get(path)
    assert response.status_code == 200, path
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_sign_in_page_and_errors_carry_the_headers(client) -> None:
    for response in (client.get("/login"), client.get("/no-such-page")):
        assert response.headers["Content-Security-Policy"] == STAFF_CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_blueprints_with_their_own_policy_keep_it(client) -> None:
    portal = client.get("/account/login")
    assert portal.headers["Content-Security-Policy"] != STAFF_CSP
    assert "frame-ancestors 'none'" in portal.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("user", "roles", "path"), [("li", None, "/studio"), ("checker", ["auditor"], "/audit")])
def test_studio_and_audit_pages_take_the_staff_policy_with_its_form_action(client, clock, make_staff, user, roles,
                                                                            path) -> None:
    add_analysts(clock.now())
    if roles:
        make_staff(user, roles=roles)
    sign_in(client, user)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == STAFF_CSP and "form-action 'self'" in STAFF_CSP


def test_pages_of_someone_signed_in_are_not_stored(client, clock) -> None:
    assert "Cache-Control" not in client.get("/login").headers  # nobody signed in: the browser may keep it
    add_analysts(clock.now())
    sign_in(client, "zhuguan")
    assert client.get("/tasks").headers["Cache-Control"] == "no-store"
    css = client.get("/static/kesu.css")
    css.close()
    assert css.headers.get("Cache-Control") != "no-store"  # files are not pages
