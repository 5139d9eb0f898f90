"""Each customer's messages in their own language; unset customers and staff in KESU_NOTIFICATION_LANGUAGE."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db
from app.models.notification import Notification
from app.outbox_worker import deliver_round, senders_for_app
from tests.outbox.conftest import add_customer, queue
from tests.outbox.test_outbox_page import _sign_in

ENGLISH, CHINESE = "Your complaint C-7 has been handled\n", "您的投诉 C-7 已处理\n"
STAFF = {"zh": "【预警】", "en": "[Alert] "}


def _rendered(notification_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Notification, notification_id).rendered


@pytest.mark.parametrize("default", ["zh", "en"])
def test_one_round_writes_each_customer_in_their_language(app, db_session, clock, use_senders, tmp_path: Path,
                                                          default: str) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    app.config["NOTIFICATION_LANGUAGE"] = default
    try:
        rows = {}
        for name, phone, language in (("Alice", "13800000001", "en"), ("王芳", "13800000002", "zh_CN"),
                                      ("李雷", "13800000003", None)):
            customer = add_customer(name, phone, f"{phone}@example.com", now=clock.now())
            customer.language = language
            rows[language] = queue("email", str(customer.id), customer_id=str(customer.id), key=phone,
                                   now=clock.now())
        staff = queue("staff", "supervisors", template="alert_fired", title="SLA", now=clock.now())
        assert len(deliver_round(senders_for_app(), now=clock.now()).sent) == 4
    finally:
        app.config["NOTIFICATION_LANGUAGE"] = "zh"
    assert _rendered(rows["en"].id).startswith(ENGLISH)
    assert _rendered(rows["zh_CN"].id).startswith(CHINESE)
    assert _rendered(rows[None].id).startswith(ENGLISH if default == "en" else CHINESE), "unset: the setting"
    assert _rendered(staff.id).startswith(STAFF[default]), "staff messages keep the setting"
    mails = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert sum('"Your complaint C-7 has been handled"' in line for line in mails) == (2 if default == "en" else 1)


def test_a_message_to_a_customer_who_no_longer_exists_is_in_the_setting(app, db_session, clock, use_senders,
                                                                       tmp_path: Path) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    row = queue("portal", "999999", customer_id="999999", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).sent == [row.id]
    assert _rendered(row.id).startswith(CHINESE)


def test_the_outbox_page_shows_a_waiting_message_in_its_customers_language(client, clock, db_session) -> None:
    customer = add_customer("Alice", now=clock.now())
    customer.language = "en"
    waiting = queue("portal", str(customer.id), customer_id=str(customer.id), now=clock.now())
    _sign_in(client, clock, "zhuguan", ["supervisor"])
    html = client.get("/outbox").text
    assert f'data-notification-id="{waiting.id}"' in html
    assert "Your complaint C-7 has been handled" in html and "您的投诉 C-7 已处理" not in html
