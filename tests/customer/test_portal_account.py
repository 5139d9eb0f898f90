"""The portal's messages page and signed-in devices page: owner only, in the customer's language, CSRF."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.customer import Customer, CustomerToken
from app.models.notification import Notification
from app.services import customers
from tests.customer.test_portal import csrf, sign_in

EN = {"Accept-Language": "en-US,en;q=0.9"}
API = "/api/v1/customer"


def _message(customer: Customer, key: str, clock: Any, *, question: str, status: str = "queued",
             channel: str = "portal") -> None:
    db.session.add(Notification(channel=channel, recipient=str(customer.id), customer_id=str(customer.id),
                                complaint_id="C-9", template="information_requested",
                                payload={"question": question}, status=status, idempotency_key=key,
                                created_at=clock.now(), sent_at=clock.now() if status == "sent" else None))
    db.session.commit()


def test_the_header_links_to_messages_and_devices(client, make_customer) -> None:
    make_customer()
    sign_in(client)
    page = client.get("/complaints").text
    assert 'href="/messages">消息</a>' in page and 'href="/account/devices">登录设备</a>' in page
    english = client.get("/complaints", headers=EN).text
    assert 'href="/messages">Messages</a>' in english and 'href="/account/devices">Devices</a>' in english


def test_messages_and_devices_need_a_signed_in_customer(client) -> None:
    for path in ("/messages", "/account/devices"):
        assert client.get(path).headers["Location"].startswith(f"/account/login?next={path}")


def test_my_messages_in_my_language_and_never_another_customers(client, make_customer, clock) -> None:
    me = make_customer()
    other = make_customer(name="李四", phone="13900000002", order_refs=("O-2",))
    _message(me, "mine-1", clock, question="请上传杯子裂纹的照片", status="sent", channel="sms")
    _message(other, "theirs-1", clock, question="李四的秘密问题")
    sign_in(client)
    chinese = client.get("/messages").text
    assert "请补充投诉 C-9 的信息" in chinese and "请上传杯子裂纹的照片" in chinese and "短信" in chinese
    assert "李四的秘密问题" not in chinese
    english = client.get("/messages", headers=EN).text
    assert "More information needed for complaint C-9" in english and "SMS" in english
    assert "请补充投诉 C-9 的信息" not in english


def test_the_page_shows_what_the_api_shows(client, make_customer, clock) -> None:
    me = make_customer()
    _message(me, "mine-1", clock, question="请上传照片")
    header = {"Authorization": f"Bearer {customers.issue_token(me.id, name='phone', now=clock.now())}",
              "Accept-Language": "zh-CN"}
    db.session.commit()
    [api_message] = client.get(f"{API}/messages", headers=header).get_json()["items"]
    sign_in(client)
    page = client.get("/messages").text
    assert api_message["subject"] in page and api_message["text"] in page
    assert "发送中" in page, "a message not sent yet says so"


def test_no_messages_and_paging(client, make_customer, clock) -> None:
    me = make_customer()
    sign_in(client)
    assert "暂无消息。" in client.get("/messages").text
    for n in range(21):
        _message(me, f"m-{n}", clock, question=f"问题编号{n:02d}号")
    first = client.get("/messages").text
    assert "问题编号20号" in first and "问题编号00号" not in first and "第 1 页，共 2 页" in first
    second = client.get("/messages?page=2").text
    assert "问题编号00号" in second and "问题编号20号" not in second
    assert "问题编号20号" in client.get("/messages?page=abc").text, "a page that is not a number is the first"


def _tokens(customer_id: int) -> list[CustomerToken]:
    db.session.expire_all()
    return list(db.session.execute(select(CustomerToken).where(CustomerToken.customer_id == customer_id)
                                   .order_by(CustomerToken.id)).scalars())


def test_i_see_my_devices_and_revoke_one(client, make_customer, clock) -> None:
    me = make_customer()
    other = make_customer(name="李四", phone="13900000002", order_refs=("O-2",))
    iphone = customers.issue_token(me.id, name="iPhone 15", now=clock.now())
    ipad = customers.issue_token(me.id, name="iPad", now=clock.now())
    customers.issue_token(other.id, name="李四的华为", now=clock.now())
    db.session.commit()
    sign_in(client)
    page = client.get("/account/devices").text
    assert "iPhone 15" in page and "iPad" in page and "李四的华为" not in page
    iphone_row = next(t for t in _tokens(me.id) if t.name == "iPhone 15")
    assert f'action="/account/devices/{iphone_row.id}/revoke"' in page
    done = client.post(f"/account/devices/{iphone_row.id}/revoke", data={"csrf_token": csrf(client, "/account/devices")})
    assert done.status_code == 302 and done.headers["Location"] == "/account/devices"
    after = client.get("/account/devices").text
    assert "iPhone 15 已退出登录" in after and 'revoke"' in after and "iPad" in after
    assert f"/account/devices/{iphone_row.id}/revoke" not in after
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {iphone}"}).status_code == 401
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {ipad}"}).status_code == 200
    again = client.post(f"/account/devices/{iphone_row.id}/revoke", data={"csrf_token": csrf(client, "/account/devices")})
    assert again.status_code == 302, "revoking twice changes nothing and is not an error"


def test_another_customers_device_is_a_404_and_stays_signed_in(client, make_customer, clock) -> None:
    make_customer()
    other = make_customer(name="李四", phone="13900000002", order_refs=("O-2",))
    theirs = customers.issue_token(other.id, name="李四的华为", now=clock.now())
    db.session.commit()
    [their_row] = _tokens(other.id)
    sign_in(client)
    token = csrf(client, "/account/devices")
    assert client.post(f"/account/devices/{their_row.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post("/account/devices/999999/revoke", data={"csrf_token": token}).status_code == 404
    assert _tokens(other.id)[0].revoked_at is None
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {theirs}"}).status_code == 200


def test_revoking_needs_the_csrf_token(client, make_customer, clock) -> None:
    me = make_customer()
    customers.issue_token(me.id, name="iPhone", now=clock.now())
    db.session.commit()
    [row] = _tokens(me.id)
    sign_in(client)
    assert client.post(f"/account/devices/{row.id}/revoke", data={}).status_code == 400
    assert _tokens(me.id)[0].revoked_at is None


def test_the_devices_page_when_none_and_in_english(client, make_customer) -> None:
    make_customer()
    sign_in(client)
    assert "目前没有通过 App 登录的设备。" in client.get("/account/devices").text
    english = client.get("/account/devices", headers=EN).text
    assert "No device is signed in through the app." in english
    assert re.search(r"<h1>Signed-in devices</h1>", english)
