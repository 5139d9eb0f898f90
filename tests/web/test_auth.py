"""Staff sign-in: CSRF, wrong passwords, safe redirects, role guard."""
from __future__ import annotations

import re

import pytest

from app.extensions import db, limiter
from app.models import User
from app.views.access import role_required


@pytest.fixture
def staff(db_session, clock):  # type: ignore[no-untyped-def]
    user = User(username="caiwu", display_name="财务钱", roles=["finance"], groups=["finance"], created_at=clock.now())
    user.set_password("correct horse")
    db.session.add(user)
    db.session.flush()
    return user


def _token(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_sign_in_without_csrf_token_is_refused(client, staff) -> None:
    response = client.post("/login", data={"username": "caiwu", "password": "correct horse"})
    assert response.status_code == 400
    assert "页面可能已过期" in response.get_data(as_text=True)   # the site's 400 page (errors.HTTP_PAGES)


def test_wrong_password_says_so_and_signs_nobody_in(client, staff) -> None:
    response = client.post("/login", data={"username": "caiwu", "password": "nope", "csrf_token": _token(client)})
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


def test_wrong_passwords_are_rate_limited_per_address(app, client, staff) -> None:
    """Guessing staff passwords is slowed down; signing in successfully does not use up the allowance."""
    app.config["STAFF_SIGNIN_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        def attempt(password: str) -> int:
            return client.post("/login", data={"username": "caiwu", "password": password,
                                               "csrf_token": _token(client)}).status_code
        codes = [attempt("correct horse"), attempt("correct horse")] + [attempt("nope") for _ in range(4)]
    finally:
        app.config["STAFF_SIGNIN_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes == [302, 302, 401, 401, 401, 429]


def test_sign_in_follows_only_local_next(client, staff) -> None:
    token = _token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "username": "caiwu", "password": "correct horse", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "财务钱" in client.get("/").get_data(as_text=True)


def test_role_guard_redirects_strangers_and_refuses_other_roles(app, staff) -> None:
    from flask_login import login_user

    from app.errors import PermissionDenied
    guarded = role_required("auditor")(lambda: "secret")
    with app.test_request_context("/only-auditors"):
        assert guarded().status_code == 302  # to the sign-in page
        login_user(staff)
        with pytest.raises(PermissionDenied, match="this page is for auditor staff"):
            guarded()
        assert role_required("finance", "auditor")(lambda: "ok")() == "ok"
