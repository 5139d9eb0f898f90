"""The customer JSON API: tokens, token kinds, submit (JSON and multipart), idempotency, reads, IDOR."""
from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models.complaint import Complaint
from tests.customer.conftest import image_bytes

API = "/api/v1/customer"
REPLY = {"outcome": "reply", "reply": "您好，已为您核实并处理。"}


def _body(**changes: Any) -> dict[str, Any]:
    return {"order_ref": "O-1", "category": "product.quality", "description": "杯子有裂纹", **changes}


def _multipart(images: list[bytes], **changes: Any) -> dict[str, Any]:
    return {**_body(**changes), "images": [(io.BytesIO(raw), f"p{n}.png") for n, raw in enumerate(images)]}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def _fields(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in _problem(response, 422)["errors"]}


# --- tokens -------------------------------------------------------------------------------------

def test_sign_in_gives_a_customer_token_that_revoking_ends(client, make_customer) -> None:
    customer = make_customer()
    signed = client.post(f"{API}/tokens", json={"login": "13800000001", "password": "secret-pw", "device": "iPhone"})
    assert signed.status_code == 201
    token = signed.get_json()["token"]
    assert token.startswith("kesuc_") and signed.get_json()["customer"]["id"] == customer.id
    header = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/me", headers=header).get_json()["name"] == "张三"
    assert client.delete(f"{API}/tokens/current", headers=header).get_json() == {"revoked": True}
    refused = _problem(client.get(f"{API}/me", headers=header), 401)
    assert "unknown or revoked; sign in again" in refused["detail"]


def test_wrong_password_and_bad_body_are_refused(client, make_customer) -> None:
    make_customer()
    wrong = _problem(client.post(f"{API}/tokens", json={"login": "13800000001", "password": "nope"}), 401)
    assert wrong["detail"].startswith("wrong phone/email or password")
    assert _fields(client.post(f"{API}/tokens", json={"login": "13800000001"})) == {
        "password": "this field is required"}


def test_token_sign_in_is_rate_limited(app, client, make_customer) -> None:
    make_customer()
    app.config["CUSTOMER_SIGNIN_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        codes = [client.post(f"{API}/tokens", json={"login": "13800000001", "password": "wrong"}).status_code
                 for _ in range(4)]
    finally:
        app.config["CUSTOMER_SIGNIN_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes == [401, 401, 401, 429]


def test_token_kinds_open_only_their_own_endpoints(client, make_customer, token_of, staff_header) -> None:
    customer_header = token_of(make_customer())
    on_staff = _problem(client.get("/api/v1/tasks", headers=customer_header), 403)
    assert "customer token opens only the /api/v1/customer/ endpoints" in on_staff["detail"]
    on_customer = _problem(client.get(f"{API}/complaints", headers=staff_header), 403)
    assert "this endpoint is for customers" in on_customer["detail"]
    assert client.get("/api/v1/tasks", headers=staff_header).status_code == 200
    missing = _problem(client.get(f"{API}/complaints"), 401)
    assert "POST /api/v1/customer/tokens" in missing["detail"]
    _problem(client.get(f"{API}/complaints", headers={"Authorization": "Bearer kesuc_made-up"}), 401)


# --- submit -------------------------------------------------------------------------------------

def test_submit_json_then_read_it_with_its_timeline(client, driver, make_customer, token_of, upload_dir) -> None:
    header = {**token_of(make_customer()), "Accept-Language": "zh-CN"}
    sent = client.post(f"{API}/complaints", json=_body(contact="晚上打电话"), headers=header)
    assert sent.status_code == 201, sent.get_json()
    complaint = sent.get_json()
    assert (complaint["order_ref"], complaint["status"], complaint["contact"]) == ("O-1", "processing", "晚上打电话")
    assert complaint["timeline"][0]["text"] == "您的投诉已提交，我们已收到"
    assert complaint["reply_by"] is not None and complaint["awaiting_confirmation"] is False
    again = client.get(f"{API}/complaints/{complaint['id']}", headers=header).get_json()
    assert again["reference"] == f"C-{complaint['id']}"
    english = client.get(f"{API}/complaints/{complaint['id']}", headers={"Authorization": header["Authorization"]})
    assert english.get_json()["timeline"][0]["text"] == "Your complaint has been submitted and received"
    assert db.session.get(Complaint, complaint["id"]).channel == "app"


def test_submit_multipart_with_two_photos_and_fetch_one(client, driver, make_customer, token_of,
                                                        upload_dir) -> None:
    header = token_of(make_customer())
    sent = client.post(f"{API}/complaints", data=_multipart([image_bytes("JPEG", exif=True), image_bytes("PNG")]),
                       headers=header, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    attachments = sent.get_json()["attachments"]
    assert [a["content_type"] for a in attachments] == ["image/jpeg", "image/png"]
    photo = client.get(attachments[1]["url"], headers=header)
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert Image.open(io.BytesIO(photo.data)).size == (32, 24)
    assert photo.headers["Cache-Control"] == "private, no-store"


BOMB = io.BytesIO()


def _bomb() -> bytes:
    if not BOMB.getvalue():
        Image.new("1", (20_000, 20_000)).save(BOMB, "PNG")  # 400 megapixels in ~50 KB
    return BOMB.getvalue()


NOT_A_PHOTO = "photo 1 is not an image Kesu can read; send a JPEG, PNG or WebP photo"


@pytest.mark.parametrize("images, fields", [
    ([image_bytes()] * 4, {"images": "4 photos sent; send at most 3"}),
    ([b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"], {"images[1]": NOT_A_PHOTO}),
    ([b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
     {"images[1]": NOT_A_PHOTO}),
    ("bomb", {"images[1]": "photo 1 has too many pixels (a decompression bomb?); send a photo under 40 megapixels"}),
], ids=["fourth-image", "png-that-is-html", "svg", "decompression-bomb"])
def test_photos_that_break_a_rule_are_refused_by_field(client, driver, make_customer, token_of, upload_dir,
                                                       images, fields) -> None:
    header = token_of(make_customer())
    raw = [_bomb()] if images == "bomb" else images
    refused = client.post(f"{API}/complaints", data=_multipart(raw), headers=header,
                          content_type="multipart/form-data")
    assert _fields(refused) == fields
    assert db.session.execute(select(func.count(Complaint.id))).scalar() == 0


def test_text_order_and_category_rules_are_refused_by_field(client, driver, make_customer, token_of,
                                                            upload_dir) -> None:
    make_customer(name="李四", phone="13900000002", order_refs=("O-OTHER",))
    header = token_of(make_customer())
    post = lambda **changes: client.post(f"{API}/complaints", json=_body(**changes), headers=header)  # noqa: E731
    assert _fields(post(order_ref="O-OTHER")) == {"order_ref": "choose one of your own orders"}
    assert _fields(post(description="坏" * 301)) == {"description": "is 301 characters; write at most 300"}
    assert _fields(post(description="   ")) == {"description": "describe the problem in a few words"}
    assert list(_fields(post(category="product.exploded"))) == ["category"]
    as_form = client.post(f"{API}/complaints", data=_multipart([], description="坏" * 301, category="nope"),
                          headers=header, content_type="multipart/form-data")
    assert set(_fields(as_form)) == {"description", "category"}
    assert _fields(client.post(f"{API}/complaints", data="not json", headers=header,
                               content_type="application/json")) == {"(body)": "must be a JSON object"}
    assert db.session.execute(select(func.count(Complaint.id))).scalar() == 0


def test_an_open_complaint_about_the_same_problem_is_a_409_naming_it(client, driver, make_customer, token_of,
                                                                    upload_dir) -> None:
    header = token_of(make_customer())
    first = client.post(f"{API}/complaints", json=_body(), headers=header).get_json()
    duplicate = _problem(client.post(f"{API}/complaints", json=_body(description="还是裂的"), headers=header), 409)
    assert duplicate["complaint_id"] == first["id"] and "is still open; follow it there" in duplicate["detail"]


# --- idempotency --------------------------------------------------------------------------------

def test_a_retried_idempotency_key_returns_the_first_answer_once(client, driver, make_customer, token_of,
                                                                 upload_dir) -> None:
    header = {**token_of(make_customer()), "Idempotency-Key": "8d3f-retry-1"}
    first = client.post(f"{API}/complaints", data=_multipart([image_bytes()]), headers=header,
                        content_type="multipart/form-data")
    retry = client.post(f"{API}/complaints", data=_multipart([image_bytes()]), headers=header,
                        content_type="multipart/form-data")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.get_json() == first.get_json()
    assert db.session.execute(select(func.count(Complaint.id))).scalar() == 1


def test_the_same_key_with_another_request_is_refused(client, driver, make_customer, token_of, upload_dir) -> None:
    header = {**token_of(make_customer()), "Idempotency-Key": "key-1"}
    assert client.post(f"{API}/complaints", json=_body(), headers=header).status_code == 201
    other = client.post(f"{API}/complaints", json=_body(category="delivery.late"), headers=header)
    problem = _problem(other, 422)
    assert problem["errors"] == [{"field": "Idempotency-Key", "message": "already used for another request"}]
    assert "use a new key for a new complaint" in problem["detail"]
    other_photo = client.post(f"{API}/complaints", data=_multipart([image_bytes("JPEG")]), headers=header,
                              content_type="multipart/form-data")
    _problem(other_photo, 422)
    assert db.session.execute(select(func.count(Complaint.id))).scalar() == 1


def test_the_same_key_from_another_customer_is_their_own(client, driver, make_customer, token_of,
                                                         upload_dir) -> None:
    mine = {**token_of(make_customer()), "Idempotency-Key": "shared"}
    theirs = {**token_of(make_customer(name="李四", phone="13900000002", order_refs=("O-2",))),
              "Idempotency-Key": "shared"}
    a = client.post(f"{API}/complaints", json=_body(), headers=mine)
    b = client.post(f"{API}/complaints", json=_body(order_ref="O-2"), headers=theirs)
    assert (a.status_code, b.status_code) == (201, 201) and a.get_json()["id"] != b.get_json()["id"]


def test_a_malformed_idempotency_key_is_refused(client, driver, make_customer, token_of, upload_dir) -> None:
    header = {**token_of(make_customer()), "Idempotency-Key": "x" * 121}
    assert list(_fields(client.post(f"{API}/complaints", json=_body(), headers=header))) == ["Idempotency-Key"]


# --- reads, confirmation ------------------------------------------------------------------------

def test_my_complaints_are_paged_newest_first(client, driver, make_customer, token_of, upload_dir) -> None:
    header = token_of(make_customer())
    ids = [client.post(f"{API}/complaints", json=_body(category=c), headers=header).get_json()["id"]
           for c in ("product.quality", "delivery.late", "order.out_of_stock")]
    page = client.get(f"{API}/complaints?limit=2", headers=header).get_json()
    assert [c["id"] for c in page["items"]] == ids[:0:-1] and page["total"] == 3
    rest = client.get(f"{API}/complaints?limit=2&offset=2", headers=header).get_json()
    assert [c["id"] for c in rest["items"]] == [ids[0]]
    assert list(_fields(client.get(f"{API}/complaints?limit=0", headers=header))) == ["limit"]


def test_confirm_resolution_with_a_rating(client, driver, make_customer, token_of, upload_dir) -> None:
    header = {**token_of(make_customer()), "Accept-Language": "zh-CN"}
    complaint = client.post(f"{API}/complaints", json=_body(), headers=header).get_json()
    early = _problem(client.post(f"{API}/complaints/{complaint['id']}/confirm", json={"satisfied": True, "csat": 5},
                                 headers={"Authorization": header["Authorization"]}), 409)
    assert "not waiting for your confirmation" in early["detail"]
    row = db.session.get(Complaint, complaint["id"])
    driver.complete(row.instance_id, "handle", REPLY, actor="xiaowang")
    waiting = client.get(f"{API}/complaints/{complaint['id']}", headers=header).get_json()
    assert waiting["awaiting_confirmation"] is True and waiting["status"] == "resolved"
    assert any("已回复您：您好，已为您核实并处理。" in e["text"] for e in waiting["timeline"])
    assert list(_fields(client.post(f"{API}/complaints/{complaint['id']}/confirm",
                                    json={"satisfied": True, "csat": 6}, headers=header))) == ["csat"]
    confirmed = client.post(f"{API}/complaints/{complaint['id']}/confirm", json={"satisfied": True, "csat": 5},
                            headers=header)
    assert confirmed.status_code == 200, confirmed.get_json()
    assert any(e["text"] == "您已确认问题已解决（评分 5）" for e in confirmed.get_json()["timeline"])
    assert confirmed.get_json()["awaiting_confirmation"] is False


def test_my_orders_and_one_order(client, make_customer, token_of) -> None:
    header = token_of(make_customer(order_refs=("O-1", "O-9"), amount="25.80"))
    page = client.get(f"{API}/orders", headers=header).get_json()
    assert {o["order_ref"] for o in page["items"]} == {"O-1", "O-9"} and page["total"] == 2
    order = client.get(f"{API}/orders/O-9", headers=header).get_json()
    assert (order["amount_paid"], order["payment_method"], order["amount_refunded"]) == ("25.80", "alipay", "0.00")
    assert order["items"] == [{"name": "陶瓷杯", "qty": 2, "price": 12.9}]


# --- IDOR ---------------------------------------------------------------------------------------

def test_another_customers_objects_are_404_on_every_endpoint(client, driver, make_customer, token_of,
                                                             upload_dir) -> None:
    theirs = token_of(make_customer(name="李四", phone="13900000002", order_refs=("O-2",)))
    sent = client.post(f"{API}/complaints", data=_multipart([image_bytes()], order_ref="O-2"), headers=theirs,
                       content_type="multipart/form-data").get_json()
    mine = token_of(make_customer())
    their_photo = sent["attachments"][0]["url"]
    assert client.get(their_photo, headers=theirs).status_code == 200
    for response in (client.get(f"{API}/complaints/{sent['id']}", headers=mine),
                     client.post(f"{API}/complaints/{sent['id']}/confirm", json={"satisfied": True}, headers=mine),
                     client.get(their_photo, headers=mine),
                     client.get(f"{API}/orders/O-2", headers=mine)):
        _problem(response, 404)
    assert _fields(client.post(f"{API}/complaints", json=_body(order_ref="O-2"), headers=mine)) == {
        "order_ref": "choose one of your own orders"}
    assert client.get(f"{API}/complaints", headers=mine).get_json()["total"] == 0
    assert client.get(f"{API}/orders", headers=mine).get_json()["items"][0]["order_ref"] == "O-1"
    _problem(client.get(f"{API}/complaints/{sent['id']}/attachments/999999", headers=theirs), 404)


def test_my_messages_in_my_language_and_only_mine(client, make_customer, token_of, clock) -> None:
    from app.models.notification import Notification
    me, other = make_customer(), make_customer(name="李四", phone="13900000002", order_refs=("O-2",))
    for customer, key in ((me, "m-1"), (other, "m-2")):
        db.session.add(Notification(channel="portal", recipient=str(customer.id), customer_id=str(customer.id),
                                    complaint_id="C-9", template="information_requested",
                                    payload={"question": "请上传照片"}, status="queued", idempotency_key=key,
                                    created_at=clock.now()))
    db.session.commit()
    header = token_of(me)
    [zh] = client.get(f"{API}/messages", headers={**header, "Accept-Language": "zh-CN"}).get_json()["items"]
    assert (zh["subject"], zh["channel"]) == ("请补充投诉 C-9 的信息", "portal") and "请上传照片" in zh["text"]
    [en] = client.get(f"{API}/messages", headers=header).get_json()["items"]
    assert en["subject"] == "More information needed for complaint C-9"


def test_submitting_is_rate_limited(app, client, driver, make_customer, token_of, upload_dir) -> None:
    header = token_of(make_customer(order_refs=("O-1",)))
    app.config["CUSTOMER_SUBMIT_LIMIT"] = "2 per hour"
    limiter.reset()
    try:
        codes = [client.post(f"{API}/complaints", json=_body(category=c), headers=header).status_code
                 for c in ("product.quality", "delivery.late", "order.out_of_stock")]
    finally:
        app.config["CUSTOMER_SUBMIT_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes == [201, 201, 429]


def test_a_body_over_16_mib_is_refused_before_reading_it(client, make_customer, token_of) -> None:
    header = token_of(make_customer())
    big = b"--x\r\n" + b"0" * (16 * 1024 * 1024) + b"\r\n--x--\r\n"  # only its length is looked at
    refused = _problem(client.post(f"{API}/complaints", data=big, headers=header,
                                   content_type="multipart/form-data; boundary=x"), 413)
    assert "send fewer or smaller files" in refused["detail"]


def test_not_solved_reopens_the_complaint(client, driver, make_customer, token_of, upload_dir) -> None:
    header = {**token_of(make_customer()), "Accept-Language": "zh-CN"}
    complaint = client.post(f"{API}/complaints", json=_body(), headers=header).get_json()
    driver.complete(db.session.get(Complaint, complaint["id"]).instance_id, "handle", REPLY, actor="xiaowang")
    reopened = client.post(f"{API}/complaints/{complaint['id']}/confirm",
                           json={"satisfied": False, "comment": "杯子还是裂的"}, headers=header)
    assert reopened.status_code == 200, reopened.get_json()
    body = reopened.get_json()
    assert body["status"] == "processing" and body["awaiting_confirmation"] is False
    assert any(e["text"] == "您反馈问题仍未解决，我们已重新处理" for e in body["timeline"])
    assert list(_fields(client.post(f"{API}/complaints/{complaint['id']}/confirm",
                                    json={"satisfied": "yes"}, headers=header))) == ["satisfied"]


def test_photos_under_another_field_name_are_refused_not_dropped(client, driver, make_customer, token_of,
                                                                 upload_dir) -> None:
    header = token_of(make_customer())
    data = {**_body(), "photos": [(io.BytesIO(image_bytes("PNG")), "p0.png")]}
    refused = client.post(f"{API}/complaints", data=data, headers=header, content_type="multipart/form-data")
    assert _fields(refused) == {"photos": "unknown file field; use images"}
    assert db.session.execute(select(func.count(Complaint.id))).scalar() == 0
