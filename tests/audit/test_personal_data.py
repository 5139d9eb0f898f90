"""Personal data stays out of hashed payloads; unmasked only for AUDIT_UNMASKED_ROLES; erasure keeps the chain intact."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PersonalData, ProcessEvent
from app.services import audit, audit_console
from app.services.audit_replay import replay_instance
from tests.audit.test_console import _sign_in, _user
from tests.support.complaints import ProcessDriver

PHONE = "13800138000"


@pytest.fixture
def complaint(driver: ProcessDriver) -> int:
    instance_id = driver.start(phone=PHONE, customer_name="王小明")
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好"}, actor="xiaowang")
    return instance_id


def _started_payload(instance_id: int) -> str:
    return db.session.execute(select(ProcessEvent.payload).where(
        ProcessEvent.instance_id == instance_id, ProcessEvent.event_type == "instance.started")).scalar_one()


def test_personal_values_are_kept_out_of_the_hashed_payload(complaint: int) -> None:
    payload = _started_payload(complaint)
    assert PHONE not in payload and "王小明" not in payload and '"phone":"pd:' in payload
    rows = db.session.execute(select(PersonalData).where(PersonalData.instance_id == complaint)).scalars().all()
    assert {(r.customer_id, r.field) for r in rows} == {("cust-1", "phone"), ("cust-1", "customer_name")}
    start = audit_console.history(complaint, unmasked=True)[0]["payload"]["data"]
    assert (start["phone"], start["customer_name"]) == (PHONE, "王小明")
    assert audit_console.history(complaint)[0]["payload"]["data"]["phone"] == "***"
    assert replay_instance(complaint).identical


def test_unmasked_roles_see_contacts_others_see_a_mask(app, client, clock, complaint: int) -> None:
    _user(clock, "shenji", ["auditor"])
    _user(clock, "boss", ["auditor", "admin"])
    _sign_in(client, "shenji")
    assert PHONE not in client.get(f"/audit/instances/{complaint}").get_data(as_text=True)
    _sign_in(client, "boss")
    assert PHONE in client.get(f"/audit/instances/{complaint}").get_data(as_text=True)
    app.config["AUDIT_UNMASKED_ROLES"] = ["dpo"]
    try:
        assert PHONE not in client.get(f"/audit/instances/{complaint}").get_data(as_text=True)
    finally:
        app.config["AUDIT_UNMASKED_ROLES"] = ["admin"]


def test_erasure_keeps_the_chain_verifiable_and_shows_erased(cli_runner, driver: ProcessDriver,
                                                             complaint: int) -> None:
    other = driver.start(complaint_id="C-2", customer_id="cust-2", phone="13900000000")
    result = cli_runner.invoke(args=["audit", "erase-customer", "cust-1", "--actor", "dpo"])
    assert result.exit_code == 0, result.output
    assert "erased 2 personal value(s) of customer cust-1 in 1 instance(s)" in result.output
    db.session.expire_all()
    assert audit.verify_chains().intact
    start = audit_console.history(complaint, unmasked=True)[0]["payload"]["data"]
    assert (start["phone"], start["customer_name"]) == ("erased", "erased")
    assert audit_console.history(complaint)[0]["payload"]["data"]["phone"] == "erased"
    assert PHONE not in (driver.instance(complaint).state or "")
    assert audit_console.history(other, unmasked=True)[0]["payload"]["data"]["phone"] == "13900000000"
    [event] = db.session.execute(select(ProcessEvent).where(ProcessEvent.event_type == "personal_data.erased")
                                 ).scalars()
    assert (event.stream, event.actor) == ("system", "dpo") and '"customer_id":"cust-1"' in event.payload
    assert replay_instance(complaint).identical
