"""`/outbox` for supervisors: channel, recipient, rendered text, status, attempts, error; retry; the CLI."""
from __future__ import annotations

import re
from pathlib import Path

from app.extensions import db
from app.models import User
from app.models.notification import Notification
from app.outbox_worker import deliver_round, senders_for_app
from tests.outbox.conftest import free_port, queue


def _sign_in(client, clock, username: str, roles: list[str]) -> None:  # type: ignore[no-untyped-def]
    user = User(username=username, display_name=username, roles=roles, groups=[], created_at=clock.now())
    user.set_password("pw")
    db.session.add(user)
    db.session.commit()
    page = client.get("/login").text
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on /login"
    token = found.group(1)
    assert client.post("/login", data={"csrf_token": token, "username": username, "password": "pw"}).status_code == 302


def test_supervisors_see_what_would_have_been_sent(client, clock, use_senders, tmp_path: Path) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    sent = queue("sms", "13800000009", now=clock.now(), template="information_requested",
                 question="<script>alert(1)</script>请补充照片")
    waiting = queue("email", "li@example.com", now=clock.now(), template="closed_no_information", key="later")
    deliver_round(senders_for_app(), now=clock.now())
    _sign_in(client, clock, "zhuguan", ["supervisor"])
    page = client.get("/outbox")
    assert page.status_code == 200
    html = page.text
    assert "未配置邮件/短信/推送服务时" in html and "短信 SMS → outbox-file" in html
    assert "13800000009" in html and "已发送 Sent" in html and "请补充投诉 C-7 的信息" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;请补充照片" in html and "<script>alert(1)" not in html
    assert f'data-notification-id="{waiting.id}"' in html and f'data-notification-id="{sent.id}"' in html
    only_email = client.get("/outbox?channel=email&status=sent").text
    assert "li@example.com" in only_email and "13800000009" not in only_email


def test_supervisors_never_see_a_customers_live_sign_in_token(client, clock, use_senders, tmp_path: Path) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    queue("sms", "13800000009", now=clock.now(), template="login_link", order_ref="KS-1",
          url="http://localhost/account/link/eyJjIjoxfQ.SECRET-token_1")
    _sign_in(client, clock, "zhuguan", ["supervisor"])
    html = client.get("/outbox").text
    assert "13800000009" in html and "http://localhost/account/link/…" in html
    assert "SECRET-token_1" not in html and "eyJjIjoxfQ" not in html


def test_a_failed_message_shows_its_error_and_can_be_retried(client, clock, use_senders) -> None:
    use_senders(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, OUTBOX_MAX_ATTEMPTS=1)
    row = queue("email", "li@example.com", now=clock.now())
    deliver_round(senders_for_app(), now=clock.now())
    _sign_in(client, clock, "zhuguan", ["supervisor"])
    page = client.get("/outbox?status=failed").text
    assert "失败 Failed" in page and "could not reach the mail server" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post(f"/outbox/{row.id}/retry").status_code == 400, "no CSRF token, no retry"
    retried = client.post(f"/outbox/{row.id}/retry", data={"csrf_token": token})
    assert retried.status_code == 302
    db.session.expire_all()
    again = db.session.get(Notification, row.id)
    assert (again.status, again.attempts) == ("queued", 0)
    conflict = client.post(f"/outbox/{row.id}/retry", data={"csrf_token": token})
    assert conflict.status_code == 409 and "only failed messages are retried" in conflict.text


def test_only_supervisors_and_admins_see_the_outbox(client, clock) -> None:
    assert client.get("/outbox").status_code == 302, "signed out: to the sign-in page"
    _sign_in(client, clock, "xiaowang", ["agent"])
    assert client.get("/outbox").status_code == 403
    assert client.post("/outbox/1/retry").status_code in (400, 403)


def test_admins_see_it_too(client, clock) -> None:
    _sign_in(client, clock, "guanli", ["admin"])
    assert client.get("/outbox").status_code == 200


def test_the_cli_sends_what_is_due(cli_runner, clock, use_senders, tmp_path: Path) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    queue("portal", "42", customer_id="42", now=clock.now())
    result = cli_runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and result.output.strip() == "1 sent, 0 retrying, 0 failed, 0 lost"
