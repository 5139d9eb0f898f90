"""Customer pages: sign-in (password, one-time link), orders, the form, progress, photos, IDOR, headers."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.extensions import db, limiter
from app.models import Notification, User
from tests.customer.conftest import image_bytes


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client, login: str = "13800000001", password: str = "secret-pw"):  # type: ignore[no-untyped-def]
    token = csrf(client, "/account/login")
    return client.post("/account/login", data={"csrf_token": token, "login": login, "password": password})


def submit(client, **fields):  # type: ignore[no-untyped-def]
    token = csrf(client, "/complaints/new")
    data = {"csrf_token": token, "order_ref": "O-1", "family": "product", "category": "product.quality",
            "description": "杯子有裂纹", "contact": ""}
    images = fields.pop("images", [])
    data.update(fields)
    data["images"] = [(io.BytesIO(raw), f"p{i}.png") for i, raw in enumerate(images)]
    return client.post("/complaints/new", data=data, content_type="multipart/form-data")


def test_password_sign_in_and_wrong_password(client, make_customer) -> None:
    make_customer()
    refused = sign_in(client, password="nope")
    assert refused.status_code == 401 and "手机号/邮箱或密码不正确" in refused.text
    assert sign_in(client).headers["Location"] == "/complaints"
    assert "张三" in client.get("/complaints").text


def test_the_order_page_shows_unit_prices_as_money(client, make_customer) -> None:
    make_customer(amount="25.80")   # two cups at 12.9
    sign_in(client)
    page = client.get("/orders/O-1").text
    assert "<td>¥12.90</td>" in page and "<td>12.9</td>" not in page


def test_customer_pages_need_a_customer_not_a_staff_member(client, make_customer, clock) -> None:
    assert client.get("/complaints").headers["Location"].startswith("/account/login?next=/complaints")
    staff = User(username="xiaowang", display_name="小王", roles=["agent"], groups=[], created_at=clock.now())
    staff.set_password("pw")
    db.session.add(staff)
    db.session.commit()
    token = csrf(client, "/login")
    client.post("/login", data={"csrf_token": token, "username": "xiaowang", "password": "pw"})
    assert client.get("/orders").status_code == 302, "a staff session is not a customer session"


def _link_from_outbox() -> str:
    row = db.session.execute(select(Notification).where(Notification.template == "login_link")
                             .order_by(Notification.id.desc())).scalars().first()
    return row.payload["url"].split("localhost", 1)[1]


def test_one_time_link_signs_in_once_and_expires(client, make_customer, clock) -> None:
    make_customer()
    token = csrf(client, "/account/login")
    sent = client.post("/account/link", data={"csrf_token": token, "order_ref": "O-1", "contact": "13800000001"})
    assert sent.status_code == 302
    row = db.session.execute(select(Notification).where(Notification.template == "login_link")).scalar_one()
    assert (row.channel, row.recipient) == ("sms", "13800000001")
    link = _link_from_outbox()
    assert client.get(link).headers["Location"] == "/complaints"
    client.post("/account/logout", data={"csrf_token": csrf(client, "/complaints")})
    again = client.get(link)
    assert again.status_code == 401 and "登录链接无效、已过期或已使用" in again.text
    client.post("/account/link", data={"csrf_token": csrf(client, "/account/login"), "order_ref": "O-1",
                                       "contact": "13800000001@example.com"})
    clock.advance(minutes=16)
    assert client.get(_link_from_outbox()).status_code == 401


def test_link_request_for_a_wrong_contact_sends_nothing_and_says_the_same(client, make_customer) -> None:
    make_customer()
    token = csrf(client, "/account/login")
    answer = client.post("/account/link", data={"csrf_token": token, "order_ref": "O-1", "contact": "139"},
                         follow_redirects=True)
    assert "登录链接已发送" in answer.text
    assert db.session.execute(select(Notification)).first() is None


def test_form_submit_shows_each_message_and_then_the_progress_page(client, driver, make_customer,
                                                                   upload_dir) -> None:
    make_customer()
    sign_in(client)
    form = client.get("/complaints/new?order=O-1")
    assert 'value="O-1" selected' in form.text and "缺货反馈" in form.text and "配送问题" in form.text
    refused = submit(client, description="坏" * 301, category="nope", images=[image_bytes()] * 4)
    assert refused.status_code == 422
    for message in ("共 301 个字，最多 300 个字", "请从列表中选择问题类型", "发送了 4 张图片，最多只能发送 3 张"):
        assert message in refused.text
    sent = submit(client, images=[image_bytes(), image_bytes("JPEG")])
    assert sent.status_code == 302
    page = client.get(sent.headers["Location"])
    assert "您的投诉已提交" in page.text and "status-processing" in page.text
    assert "我们将在" in page.text
    photo = re.search(r'src="(/complaints/\d+/photos/\d+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.get(photo).headers["Content-Type"] == "image/png"
    duplicate = submit(client)
    assert duplicate.headers["Location"] == sent.headers["Location"]


def test_another_customers_complaint_order_and_photo_are_404(client, driver, make_customer, upload_dir) -> None:
    make_customer(name="李四", phone="13900000002", order_refs=("O-2",))
    make_customer()
    sign_in(client, login="13900000002")
    sent = submit(client, order_ref="O-2", images=[image_bytes()])
    theirs = sent.headers["Location"]
    photo = re.search(r'src="(/complaints/\d+/photos/\d+)"', client.get(theirs).text).group(1)  # type: ignore[union-attr]
    client.post("/account/logout", data={"csrf_token": csrf(client, "/complaints")})
    sign_in(client)
    complaint_id = theirs.rsplit("/", 1)[1]
    for path in (theirs, photo, "/orders/O-2"):
        assert client.get(path).status_code == 404, path
    token = csrf(client, "/complaints")
    assert client.post(f"/complaints/{complaint_id}/confirm", data={"csrf_token": token, "satisfied": "yes",
                                                                    "csat": "5"}).status_code == 404
    assert "请选择您自己的订单" in submit(client, order_ref="O-2").text
    client.post("/account/logout", data={"csrf_token": token})
    assert client.get(photo).status_code == 404, "signed out: no photo"


def test_security_headers_on_customer_pages(client) -> None:
    headers = client.get("/account/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_sign_in_is_rate_limited(app, client, make_customer) -> None:
    make_customer()
    app.config["CUSTOMER_SIGNIN_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        codes = [sign_in(client, password="wrong").status_code for _ in range(4)]
    finally:
        app.config["CUSTOMER_SIGNIN_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes == [401, 401, 401, 429]
