"""`/admin/customers`: a supervisor finds a customer and signs their app out on one or every device.

The revoked token is refused (401) on its next API call while the others still work; each revocation
is a `customer_token.revoked` system audit event with the staff member as actor and a portal message
to the customer; agents get 403, a form without the CSRF token 400, an unknown customer 404.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app.extensions import db
from app.models import Notification, ProcessEvent
from app.models.customer import Customer, CustomerToken
from app.services import audit, customers
from tests.customer.test_portal import sign_in as customer_sign_in
from tests.support.staff import sign_in

ME = "/api/v1/customer/me"


@pytest.fixture
def phones(make_customer, clock) -> tuple[Customer, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A customer signed in on two devices: device name -> its token."""
    customer = make_customer()
    tokens = {name: customers.issue_token(customer.id, name=name, now=clock.now()) for name in ("iPhone 15", "iPad")}
    db.session.commit()
    return customer, tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _csrf(client: Any, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


def _token_id(customer: Customer, name: str) -> int:
    return db.session.query(CustomerToken).filter_by(customer_id=customer.id, name=name).one().id


def _revocations() -> list[tuple[str | None, dict[str, Any]]]:
    rows = db.session.query(ProcessEvent).filter_by(stream=audit.SYSTEM_STREAM, event_type="customer_token.revoked")
    return [(row.actor, audit_payload(row)) for row in rows.order_by(ProcessEvent.seq)]


def audit_payload(row: ProcessEvent) -> dict[str, Any]:
    return json.loads(row.payload) if isinstance(row.payload, str) else row.payload


def test_a_supervisor_finds_the_customer_by_phone_and_signs_one_device_out(client, make_staff, phones) -> None:
    customer, tokens = phones
    make_staff("boss", roles=["supervisor"], groups=["supervisors"])
    sign_in(client, "boss")
    found = client.get("/admin/customers?q=13800000001")
    assert found.status_code == 302 and found.location.endswith(f"/admin/customers/{customer.id}/devices")
    assert client.get(f"/admin/customers?q={customer.id}").location == found.location
    page = client.get(found.location).text
    assert "iPhone 15" in page and "iPad" in page and customer.name in page
    stolen = _token_id(customer, "iPhone 15")
    done = client.post(f"/admin/customers/{customer.id}/devices/{stolen}/revoke",
                       data={"csrf_token": _csrf(client, found.location)})
    assert done.status_code == 302
    assert "iPhone 15 已退出登录" in client.get(found.location).text
    assert client.get(ME, headers=_bearer(tokens["iPhone 15"])).status_code == 401
    assert client.get(ME, headers=_bearer(tokens["iPad"])).get_json()["id"] == customer.id
    assert _revocations() == [("boss", {"customer_id": customer.id, "token_id": stolen, "by": "staff",
                                        "before": {"revoked": False}, "after": {"revoked": True}})]
    assert audit.verify_chains().intact
    [told] = db.session.query(Notification).filter_by(customer_id=str(customer.id), template="device_signed_out").all()
    assert (told.channel, told.payload) == ("portal", {"device": "iPhone 15"})
    again = client.post(f"/admin/customers/{customer.id}/devices/{stolen}/revoke",
                        data={"csrf_token": _csrf(client, found.location)})
    assert again.status_code == 404 and f"没有已登录的设备 {stolen}" in again.text
    assert len(_revocations()) == 1, "signing out a device twice records it once"


def test_an_admin_signs_every_device_out(client, make_staff, phones) -> None:
    customer, tokens = phones
    make_staff("root", roles=["admin"])
    sign_in(client, "root")
    page = f"/admin/customers/{customer.id}/devices"
    done = client.post(f"{page}/revoke-all", data={"csrf_token": _csrf(client, page)},
                       headers={"Accept-Language": "en"})
    assert done.status_code == 302
    after = client.get(page, headers={"Accept-Language": "en"}).text
    assert "Devices signed out: 2." in after and 'id="no-devices"' in after
    assert all(client.get(ME, headers=_bearer(token)).status_code == 401 for token in tokens.values())
    assert sorted(p["token_id"] for actor, p in _revocations() if actor == "root") == sorted(
        _token_id(customer, name) for name in tokens)
    nothing = client.post(f"{page}/revoke-all", data={"csrf_token": _csrf(client, page)},
                          headers={"Accept-Language": "en"})
    assert nothing.status_code == 302 and len(_revocations()) == 2


def test_agents_are_refused_and_nothing_changes(client, make_staff, phones) -> None:
    customer, tokens = phones
    make_staff("ann", groups=["tier1"])
    sign_in(client, "ann")
    assert client.get("/admin/customers").status_code == 403
    assert client.get(f"/admin/customers/{customer.id}/devices").status_code == 403
    token = _csrf(client, "/tasks")
    assert client.post(f"/admin/customers/{customer.id}/devices/revoke-all", data={"csrf_token": token}).status_code == 403
    assert 'href="/admin/customers"' not in client.get("/").text
    assert all(client.get(ME, headers=_bearer(t)).status_code == 200 for t in tokens.values())
    assert _revocations() == []


def test_a_form_without_the_csrf_token_is_refused(client, make_staff, phones) -> None:
    customer, tokens = phones
    make_staff("boss", roles=["supervisor"])
    sign_in(client, "boss")
    stolen = _token_id(customer, "iPhone 15")
    assert client.post(f"/admin/customers/{customer.id}/devices/{stolen}/revoke").status_code == 400
    assert client.post(f"/admin/customers/{customer.id}/devices/revoke-all", data={}).status_code == 400
    assert client.get(ME, headers=_bearer(tokens["iPhone 15"])).status_code == 200
    assert _revocations() == []


def test_an_unknown_customer_or_device_is_a_404_that_says_so(client, make_staff, make_customer, phones) -> None:
    customer, tokens = phones
    other = make_customer(name="李四", phone="13900000002", order_refs=("O-9",))
    make_staff("boss", roles=["supervisor"])
    sign_in(client, "boss")
    english = {"Accept-Language": "en"}
    missing = client.get("/admin/customers?q=13700000000", headers=english)
    assert missing.status_code == 404 and "No customer has the phone number, email address or customer number " \
                                          "13700000000" in missing.text
    assert "13700000000" in client.get("/admin/customers?q=13700000000").text   # zh: 没有客户...
    assert "没有" in client.get("/admin/customers?q=13700000000").text
    empty = client.get("/admin/customers?q=+", headers=english)
    assert empty.status_code == 422 and "Enter a phone number" in empty.text
    unknown = client.get("/admin/customers/999999/devices", headers=english)
    assert unknown.status_code == 404 and "There is no customer number 999999" in unknown.text
    huge = client.get("/admin/customers/99999999999/devices", headers=english)
    assert huge.status_code == 404 and client.get("/admin/customers?q=99999999999").status_code == 404
    token = _csrf(client, f"/admin/customers/{customer.id}/devices")
    assert client.post("/admin/customers/999999/devices/revoke-all", data={"csrf_token": token}).status_code == 404
    not_theirs = client.post(f"/admin/customers/{other.id}/devices/{_token_id(customer, 'iPad')}/revoke",
                             data={"csrf_token": token}, headers=english)
    assert not_theirs.status_code == 404 and f"Customer {other.id} has no signed-in device" in not_theirs.text
    assert all(client.get(ME, headers=_bearer(t)).status_code == 200 for t in tokens.values())
    assert _revocations() == []


def test_the_customer_reads_the_message_in_the_portal(client, make_staff, phones) -> None:
    customer, _ = phones
    make_staff("boss", roles=["supervisor"])
    sign_in(client, "boss")
    page = f"/admin/customers/{customer.id}/devices"
    client.post(f"{page}/{_token_id(customer, 'iPad')}/revoke", data={"csrf_token": _csrf(client, page)})
    signed = customer_sign_in(client)   # the customer's session lives under its own key, beside the staff one
    assert signed.status_code == 302, signed.text
    assert "客服已将设备“iPad”从您的 Kesu 账号退出" in client.get("/messages").text


def test_the_page_speaks_the_chosen_language_with_the_switcher(client, make_staff, phones) -> None:
    customer, _ = phones
    make_staff("boss", roles=["supervisor"])
    sign_in(client, "boss")
    chinese = client.get(f"/admin/customers/{customer.id}/devices").text
    assert '<html lang="zh-CN">' in chinese and "退出全部设备" in chinese and "language-switcher" in chinese
    english = client.get(f"/admin/customers/{customer.id}/devices", headers={"Accept-Language": "en"}).text
    assert '<html lang="en">' in english and "Sign every device out" in english
