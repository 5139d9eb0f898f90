"""Admins create staff accounts and reset passwords on /admin/users; staff change their own password."""
from __future__ import annotations

import json
import re

import pytest
from flask import g, request_started
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, ProcessEvent, User
from app.services import api_tokens
from app.services.audit import SYSTEM_STREAM
from tests.workspace.conftest import PASSWORD, csrf, sign_in


@pytest.fixture(autouse=True)
def each_request_finds_its_own_user(app):  # type: ignore[no-untyped-def]
    """These tests use several clients at once inside the test's app context, whose ``g`` would keep
    the previous request's user and CSRF token: every request reads its own cookie."""
    def forget(_sender, **_extra):  # type: ignore[no-untyped-def]
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def _sign_in_as(client, username: str, password: str):  # type: ignore[no-untyped-def]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _shown_password(page: str) -> str:
    return re.search(r'<code id="new-password">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]


def _events(event_type: str) -> list[tuple[str | None, dict]]:
    rows = db.session.execute(select(ProcessEvent.actor, ProcessEvent.payload).where(
        ProcessEvent.stream == SYSTEM_STREAM, ProcessEvent.event_type == event_type).order_by(ProcessEvent.seq))
    return [(actor, json.loads(payload)) for actor, payload in rows]


def _staff_count() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


@pytest.fixture
def admin_client(client, make_staff):  # type: ignore[no-untyped-def]
    make_staff("root", roles=["admin"])
    sign_in(client, "root")
    return client


def _create(client, headers=None, **fields):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf(client.get("/admin/users").text), "username": "xiaoli", "display_name": "小李",
            "roles": ["agent"], "groups": ["tier1-product"]}
    data.update(fields)
    return client.post("/admin/users", data=data, headers=headers)


def test_a_new_staff_member_signs_in_with_the_shown_password_and_sees_their_pages(admin_client, app) -> None:
    created = _create(admin_client)
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    password = _shown_password(created.text)
    assert len(password) >= 16 and "xiaoli" in created.text
    user = db.session.execute(select(User).where(User.username == "xiaoli")).scalar_one()
    assert (user.display_name, user.roles, user.groups, user.is_active_account) == (
        "小李", ["agent"], ["tier1-product"], True)
    assert password not in user.password_hash
    assert _events("staff.created") == [("root", {"username": "xiaoli", "display_name": "小李", "roles": ["agent"],
                                                  "groups": ["tier1-product"], "active": True})]
    assert password not in json.dumps(_events("staff.created"))
    assert password not in admin_client.get("/admin/users").text, "the password is shown once"

    newcomer = app.test_client()
    assert _sign_in_as(newcomer, "xiaoli", password).status_code == 302
    home = newcomer.get("/").text
    assert "Tasks 任务" in home and "Users 用户" not in home
    assert newcomer.get("/tasks").status_code == 200
    assert newcomer.get("/admin/users").status_code == 403


@pytest.mark.parametrize("fields, field", [
    ({"username": "ann"}, "ann is taken"),
    ({"username": "root"}, "root is reserved"),
    ({"username": "ROOT"}, "use 3 to 40 lowercase"),
    ({"username": "xl"}, "use 3 to 40 lowercase"),
    ({"username": "x" * 41}, "use 3 to 40 lowercase"),
    ({"username": "xiao li"}, "use 3 to 40 lowercase"),
    ({"username": "xiao:li"}, "use 3 to 40 lowercase"),
    ({"username": "system"}, "is reserved"),
    ({"username": "gateway"}, "is reserved"),
    ({"username": "administrator"}, "is reserved"),
    ({"roles": []}, "choose at least one role"),
    ({"roles": ["pope"]}, "unknown role pope"),
    ({"groups": ["nowhere"]}, "unknown group nowhere"),
    ({"display_name": "  "}, "give the name colleagues know them by"),
])
def test_bad_input_is_refused_with_422_and_nothing_is_written(admin_client, make_staff, fields, field) -> None:
    make_staff("ann")
    before = _staff_count()
    answer = _create(admin_client, headers={"Accept-Language": "en"}, **fields)
    assert answer.status_code == 422
    assert "No staff account was created; correct the fields below." in answer.text and field in answer.text
    assert _staff_count() == before and _events("staff.created") == []
    assert 'id="new-password"' not in answer.text


def test_the_message_is_chinese_by_default_and_english_on_request(admin_client) -> None:
    token = csrf(admin_client.get("/admin/users").text)
    data = {"csrf_token": token, "username": "system", "display_name": "S", "roles": ["agent"]}
    chinese = admin_client.post("/admin/users", data=data, headers={"Accept-Language": "zh-CN"})
    english = admin_client.post("/admin/users", data=data, headers={"Accept-Language": "en"})
    assert chinese.status_code == english.status_code == 422
    assert "未创建员工账号" in chinese.text and "system 是保留名" in chinese.text
    assert "No staff account was created" in english.text and "system is reserved" in english.text


def test_reset_password_refuses_the_old_one_accepts_the_new_one_and_revokes_tokens(admin_client, app, make_staff,
                                                                                    clock) -> None:
    make_staff("ann", roles=["agent"])
    token, _row = api_tokens.issue_token("ann", name="script", now=clock.now())
    db.session.commit()
    signed_in = app.test_client()
    sign_in(signed_in, "ann")
    assert signed_in.get("/tasks").status_code == 200
    assert app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    answer = admin_client.post("/admin/users/ann/password", data={"csrf_token": csrf(admin_client.get(
        "/admin/users").text)})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    password = _shown_password(answer.text)
    assert _sign_in_as(app.test_client(), "ann", PASSWORD).status_code == 401
    assert _sign_in_as(app.test_client(), "ann", password).status_code == 302
    assert signed_in.get("/tasks").status_code == 302, "the session opened with the old password ended"
    assert app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is not None
    assert _events("staff.password_reset") == [("root", {"username": "ann", "tokens_revoked": 1})]
    assert [actor for actor, _ in _events("api_token.revoked")] == ["root"]
    assert password not in json.dumps(_events("staff.password_reset"))


def test_an_admin_cannot_reset_their_own_password_here(admin_client) -> None:
    page = admin_client.get("/admin/users").text
    assert 'id="reset-root"' not in page and "/staff/password" in page
    answer = admin_client.post("/admin/users/root/password", data={"csrf_token": csrf(page)})
    assert answer.status_code == 422 and _events("staff.password_reset") == []
    assert _sign_in_as(admin_client.application.test_client(), "root", PASSWORD).status_code == 302


def test_reset_of_nobody_is_404(admin_client) -> None:
    answer = admin_client.post("/admin/users/ghost/password", data={"csrf_token": csrf(admin_client.get(
        "/admin/users").text)})
    assert answer.status_code == 404


def test_non_admins_get_403_and_nothing_changes(client, make_staff) -> None:
    make_staff("ann", roles=["agent"])
    make_staff("sup", roles=["supervisor"])
    sign_in(client, "sup")
    token = csrf(client.get("/tasks").text)
    before = _staff_count()
    assert client.post("/admin/users", data={"csrf_token": token, "username": "xiaoli", "display_name": "L",
                                             "roles": ["admin"]}).status_code == 403
    assert client.post("/admin/users/ann/password", data={"csrf_token": token}).status_code == 403
    assert _staff_count() == before and _events("staff.created") == _events("staff.password_reset") == []


def test_the_forms_need_the_csrf_token(admin_client, make_staff) -> None:
    make_staff("ann", roles=["agent"])
    before = _staff_count()
    assert admin_client.post("/admin/users", data={"username": "xiaoli", "display_name": "L",
                                                   "roles": ["agent"]}).status_code == 400
    assert admin_client.post("/admin/users/ann/password").status_code == 400
    assert admin_client.post("/staff/password", data={"current": PASSWORD, "new": "a-new-password",
                                                      "repeated": "a-new-password"}).status_code == 400
    assert _staff_count() == before and _sign_in_as(admin_client.application.test_client(), "ann",
                                                    PASSWORD).status_code == 302


def test_any_staff_member_changes_their_own_password(client, app, make_staff) -> None:
    make_staff("ann", roles=["analyst"])
    other_session = app.test_client()
    sign_in(other_session, "ann")
    sign_in(client, "ann")
    token = csrf(client.get("/staff/password").text)
    form = {"csrf_token": token, "current": PASSWORD, "new": "a-new-password", "repeated": "a-new-password"}
    for wrong, message in (({"current": "wrong one"}, "the current password is wrong"),
                           ({"new": "short", "repeated": "short"}, "use at least 10 characters"),
                           ({"repeated": "another-password"}, "the two new passwords differ"),
                           ({"new": PASSWORD, "repeated": PASSWORD}, "different from the current one")):
        answer = client.post("/staff/password", data={**form, **wrong}, headers={"Accept-Language": "en"})
        assert answer.status_code == 422 and message in answer.text, wrong
    assert _events("staff.password_changed") == []
    changed = client.post("/staff/password", data=form, follow_redirects=True)
    assert changed.status_code == 200 and client.get("/studio").status_code == 200, "this session goes on"
    assert other_session.get("/studio").status_code == 302, "other sessions are signed out"
    assert _sign_in_as(app.test_client(), "ann", PASSWORD).status_code == 401
    assert _sign_in_as(app.test_client(), "ann", "a-new-password").status_code == 302
    assert _events("staff.password_changed") == [("ann", {"username": "ann"})]


def test_signing_in_needs_to_be_done_for_the_change_password_page(client) -> None:
    assert client.get("/staff/password").headers["Location"].startswith("/login")
