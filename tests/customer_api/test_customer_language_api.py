"""The customer's language through the app API: PATCH /me sets it, GET /me shows it, the first complaint's
Accept-Language sets it while it is unset."""
from __future__ import annotations

from app.extensions import db
from app.models.customer import Customer

API = "/api/v1/customer"
BODY = {"order_ref": "O-1", "category": "product.quality", "description": "杯子有裂纹"}


def _language(customer_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Customer, customer_id).language


def test_patch_me_sets_and_clears_the_language(client, make_customer, token_of) -> None:
    customer = make_customer()
    header = token_of(customer)
    assert client.get(f"{API}/me", headers=header).get_json()["language"] is None
    changed = client.patch(f"{API}/me", json={"language": "en"}, headers=header)
    assert changed.status_code == 200 and changed.get_json()["language"] == "en"
    assert _language(customer.id) == "en" and client.get(f"{API}/me", headers=header).get_json()["language"] == "en"
    assert client.patch(f"{API}/me", json={"language": "zh_CN"}, headers=header).get_json()["language"] == "zh_CN"
    assert client.patch(f"{API}/me", json={"language": None}, headers=header).get_json()["language"] is None
    assert _language(customer.id) is None


def test_an_unknown_language_is_refused_and_nothing_changes(client, make_customer, token_of) -> None:
    customer = make_customer()
    header = token_of(customer)
    client.patch(f"{API}/me", json={"language": "en"}, headers=header)
    for body in ({"language": "fr"}, {"language": "zh"}, {"language": 1}, {}, {"language": "en", "name": "x"}):
        refused = client.patch(f"{API}/me", json=body, headers={**header, "Accept-Language": "en"})
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json", body
        if "name" in body:  # the language is fine: the message names what is wrong instead
            assert refused.get_json()["detail"] == "Correct the fields listed: only language can be changed."
            assert [e["field"] for e in refused.get_json()["errors"]] == ["name"]
        else:
            assert "zh_CN (中文), en (English)" in refused.get_json()["detail"], body
        assert _language(customer.id) == "en", body
    chinese = client.patch(f"{API}/me", json={"language": "fr"}, headers={**header, "Accept-Language": "zh-CN"})
    assert chinese.get_json()["errors"] == [{"field": "language",
                                             "message": "请选择以下语言之一：zh_CN (中文), en (English)；或 null，使用本店的默认语言"}]


def test_the_apps_accept_language_sets_it_on_the_first_complaint(client, driver, make_customer, token_of,
                                                                  upload_dir) -> None:
    silent = make_customer(name="李四", phone="13800000002", order_refs=("O-9",))
    sent = client.post(f"{API}/complaints", json={**BODY, "order_ref": "O-9"}, headers=token_of(silent))
    assert sent.status_code == 201 and _language(silent.id) is None, "no Accept-Language: nothing to take"
    customer = make_customer(order_refs=("O-1", "O-2"))
    header = token_of(customer)
    assert client.post(f"{API}/complaints", json=BODY, headers={**header, "Accept-Language": "en-GB"}).status_code == 201
    assert _language(customer.id) == "en"
    second = client.post(f"{API}/complaints", json={**BODY, "order_ref": "O-2"},
                         headers={**header, "Accept-Language": "zh-CN"})
    assert second.status_code == 201 and _language(customer.id) == "en", "only while it is unset"
