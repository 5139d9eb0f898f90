"""The customer's own language on the portal: the switcher stores it, the first complaint sets it when unset."""
from __future__ import annotations

from app.extensions import db
from app.models.customer import Customer
from tests.customer.conftest import image_bytes
from tests.customer.test_portal import csrf, sign_in, submit

EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _speaking(client, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """The client's browser language from now on (for the helpers that post forms)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = headers["Accept-Language"]
    return client


def _language(customer_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Customer, customer_id).language


def test_the_switcher_sets_the_signed_in_customers_language(client, make_customer) -> None:
    customer, other = make_customer(), make_customer(name="李四", phone="13800000002", order_refs=("O-2",))
    token = csrf(client, "/account/login")
    client.post("/language", data={"csrf_token": token, "lang": "en"})
    assert _language(customer.id) is None, "not signed in: only the session remembers the choice"
    sign_in(client)
    assert client.post("/language", data={"csrf_token": token, "lang": "en"}).status_code == 302
    assert _language(customer.id) == "en" and _language(other.id) is None
    client.post("/language", data={"csrf_token": token, "lang": "zh_CN"})
    assert _language(customer.id) == "zh_CN"
    client.post("/language", data={"csrf_token": token, "lang": "klingon"})
    assert _language(customer.id) == "zh_CN", "an unknown language clears the session's choice only"


def test_the_first_complaint_sets_the_language_it_was_written_in(client, driver, make_customer,
                                                                  upload_dir) -> None:
    customer = make_customer(order_refs=("O-1", "O-2"))
    sign_in(client)
    token = csrf(client, "/complaints/new")
    refused = client.post("/complaints/new", data={"csrf_token": token, "order_ref": "O-1", "description": ""},
                          headers=EN)
    assert refused.status_code == 422 and _language(customer.id) is None, "a refused complaint sets nothing"
    assert submit(_speaking(client, EN), images=[image_bytes()]).status_code == 302
    assert _language(customer.id) == "en"
    assert submit(_speaking(client, ZH), order_ref="O-2").status_code == 302
    assert _language(customer.id) == "en", "only while it is unset"


def test_a_complaint_does_not_overwrite_the_switchers_choice(client, driver, make_customer, upload_dir) -> None:
    customer = make_customer()
    sign_in(client)
    token = csrf(client, "/complaints/new")
    client.post("/language", data={"csrf_token": token, "lang": "en"})
    client.post("/language", data={"csrf_token": token, "lang": ""})   # the session forgets; the customer keeps it
    assert submit(_speaking(client, ZH)).status_code == 302
    assert _language(customer.id) == "en"
