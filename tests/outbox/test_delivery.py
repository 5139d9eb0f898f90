"""Outbox delivery: SMTP and signed webhooks over real sockets, once per message, retry with backoff, give up."""
from __future__ import annotations

import json
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

from app.extensions import db
from app.models.notification import Notification
from app.outbox_worker import deliver_chore, deliver_round, senders_for_app
from tests.outbox.conftest import WEBHOOK_SECRET, add_customer, queue


def _row(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def _mail(envelope) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    parsed = message_from_bytes(envelope.content)
    return parsed["To"], str(make_header(decode_header(parsed["Subject"]))), parsed.get_payload(decode=True).decode()


def _smtp(server, **extra):  # type: ignore[no-untyped-def]
    return dict(SMTP_HOST=server.host, SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_USER="kesu",
                SMTP_PASSWORD="mail-pw", **extra)


def test_email_goes_through_smtp_once_even_when_the_chore_runs_twice(app, db_session, clock, smtp_server,
                                                                     use_senders) -> None:
    use_senders(**_smtp(smtp_server))
    customer = add_customer(now=clock.now())
    row = queue("email", str(customer.id), customer_id=str(customer.id), now=clock.now())
    deliver_chore(clock.now())
    deliver_chore(clock.now())
    [envelope] = smtp_server.box.messages
    to, subject, text = _mail(envelope)
    assert (to, subject) == ("wangfang@example.com", "您的投诉 C-7 已处理")
    assert "客服回复：已为您补发" in text and "72 小时内确认" in text
    assert smtp_server.box.logins == ["kesu"]
    sent = _row(row.id)
    assert (sent.status, sent.attempts, sent.sent_by, sent.sent_at) == ("sent", 1, "smtp", clock.now())
    assert sent.rendered.startswith("您的投诉 C-7 已处理\n")


def test_email_with_starttls_against_a_server_that_requires_it(app, db_session, clock, starttls_server,
                                                               use_senders) -> None:
    use_senders(**_smtp(starttls_server, SMTP_CA_FILE=starttls_server.ca_file) | {"SMTP_STARTTLS": True})
    row = queue("email", "li@example.com", template="login_link", now=clock.now(), url="https://kesu/l/abc",
                order_ref="O-1", minutes=15)
    assert deliver_round(senders_for_app(), now=clock.now()).sent == [row.id]
    [envelope] = starttls_server.box.messages
    assert envelope.rcpt_tos == ["li@example.com"] and "https://kesu/l/abc" in _mail(envelope)[2]


def test_without_starttls_that_server_refuses_the_mail(app, db_session, clock, starttls_server,
                                                       use_senders) -> None:
    use_senders(SMTP_HOST=starttls_server.host, SMTP_PORT=starttls_server.port, SMTP_STARTTLS=False)
    row = queue("email", "li@example.com", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).failed == [row.id]
    assert "answered 530" in _row(row.id).last_error and starttls_server.box.messages == []
    use_senders(**_smtp(starttls_server))  # a login offered over plain text: the server does not take it
    retried = queue("email", "wu@example.com", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).retrying == [retried.id]
    assert "AUTH extension not supported" in _row(retried.id).last_error


def test_an_unreachable_server_is_retried_with_backoff_then_failed(app, db_session, clock, use_senders) -> None:
    from tests.outbox.conftest import free_port
    use_senders(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, OUTBOX_MAX_ATTEMPTS=3)
    row = queue("email", "li@example.com", now=clock.now())
    senders = senders_for_app()
    assert deliver_round(senders, now=clock.now()).retrying == [row.id]
    waiting = _row(row.id)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert (waiting.next_attempt_at - clock.now()).total_seconds() == 30
    assert "could not reach the mail server" in waiting.last_error
    assert deliver_round(senders, now=clock.now()).retrying == [], "not again before the backoff is over"
    clock.advance(seconds=30)
    assert deliver_round(senders, now=clock.now()).retrying == [row.id]
    assert (_row(row.id).next_attempt_at - clock.now()).total_seconds() == 60
    clock.advance(seconds=60)
    assert deliver_round(senders, now=clock.now()).failed == [row.id]
    failed = _row(row.id)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 3, None)
    clock.advance(hours=1)
    assert deliver_round(senders, now=clock.now()).failed == [], "a failed message is not tried again by itself"


def test_a_refused_recipient_fails_at_once(app, db_session, clock, smtp_server, use_senders) -> None:
    use_senders(**_smtp(smtp_server))
    smtp_server.box.refuse.add("gone@example.com")
    row = queue("email", "gone@example.com", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).failed == [row.id]
    assert "refused gone@example.com" in _row(row.id).last_error


def test_a_customer_without_an_address_for_the_channel_fails_with_the_reason(app, db_session, clock,
                                                                              use_senders) -> None:
    customer = add_customer(email=None, now=clock.now())
    row = queue("email", str(customer.id), customer_id=str(customer.id), now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).failed == [row.id]
    assert _row(row.id).last_error == (f"customer {customer.id} has no email address for email; "
                                       "the message cannot be sent")


def test_sms_and_push_go_to_the_webhook_signed(app, db_session, clock, webhook, use_senders) -> None:
    use_senders(SMS_WEBHOOK_URL=f"{webhook.url}/sms", PUSH_WEBHOOK_URL=f"{webhook.url}/push")
    customer = add_customer(now=clock.now())
    sms = queue("sms", str(customer.id), customer_id=str(customer.id), now=clock.now(),
                template="information_requested", question="请上传破损照片")
    push = queue("push", str(customer.id), customer_id=str(customer.id), now=clock.now())
    assert sorted(deliver_round(senders_for_app(), now=clock.now()).sent) == sorted([sms.id, push.id])
    by_path = {r["path"]: r for r in webhook.received}
    assert all(r["valid"] for r in webhook.received) and len(webhook.received) == 2
    assert by_path["/sms"]["json"]["to"] == "13800000009" and "请上传破损照片" in by_path["/sms"]["json"]["text"]
    assert by_path["/push"]["json"]["to"] == str(customer.id)
    assert by_path["/sms"]["key"] == sms.idempotency_key
    assert by_path["/sms"]["stamp"] == str(int(clock.now().timestamp()))
    assert _row(sms.id).sent_by == "sms"


def test_a_wrong_secret_is_refused_by_the_receiver_and_fails(app, db_session, clock, webhook, use_senders) -> None:
    use_senders(SMS_WEBHOOK_URL=f"{webhook.url}/sms")
    app.config["NOTIFY_WEBHOOK_SECRET"] = "not-" + WEBHOOK_SECRET
    from app.services.notification_senders import build_senders
    app.extensions["kesu.senders"] = build_senders(app.config, app.instance_path)
    row = queue("sms", "13800000009", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).failed == [row.id]
    assert _row(row.id).last_error == "the sms webhook answered 401: bad signature"


def test_a_webhook_5xx_is_retried_and_then_sent_with_the_same_key(app, db_session, clock, webhook,
                                                                 use_senders) -> None:
    use_senders(SMS_WEBHOOK_URL=f"{webhook.url}/sms")
    webhook.answers = [503]
    row = queue("sms", "13800000009", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).retrying == [row.id]
    assert _row(row.id).last_error.startswith("the sms webhook answered 503")
    clock.advance(seconds=30)
    assert deliver_round(senders_for_app(), now=clock.now()).sent == [row.id]
    assert [r["key"] for r in webhook.received] == [row.idempotency_key] * 2
    sent = _row(row.id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)


def test_a_slow_webhook_times_out_and_is_retried(app, db_session, clock, webhook, use_senders) -> None:
    use_senders(SMS_WEBHOOK_URL=f"{webhook.url}/sms", WEBHOOK_READ_TIMEOUT=0.2)
    webhook.delay = 1.0
    row = queue("sms", "13800000009", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).retrying == [row.id]
    assert _row(row.id).last_error == "the sms webhook did not answer: ReadTimeout"


def test_a_webhook_4xx_is_not_retried(app, db_session, clock, webhook, use_senders) -> None:
    use_senders(SMS_WEBHOOK_URL=f"{webhook.url}/sms")
    webhook.answers = [400]
    row = queue("sms", "13800000009", now=clock.now())
    assert deliver_round(senders_for_app(), now=clock.now()).failed == [row.id]


def test_embedded_default_records_to_the_outbox_file_and_portal_is_delivered_in_app(
        app, db_session, clock, use_senders, tmp_path: Path) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    email = queue("email", "li@example.com", now=clock.now(), template="closed_no_information")
    portal = queue("portal", "42", customer_id="42", now=clock.now())
    staff = queue("staff", "supervisors", template="response_sla_missed", now=clock.now(), complaint_id="C-7",
                  group="tier1-product", priority="high")
    assert sorted(deliver_round(senders_for_app(), now=clock.now()).sent) == [email.id, portal.id, staff.id]
    [line] = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    recorded = json.loads(line)
    assert (recorded["address"], recorded["subject"]) == ("li@example.com", "投诉 C-7 已关闭")
    assert [(_row(i).sent_by, _row(i).status) for i in (email.id, portal.id, staff.id)] == [
        ("outbox-file", "sent"), ("portal", "sent"), ("staff-inbox", "sent")]
    assert "处理组 tier1-product" in _row(staff.id).rendered


def test_english_templates_and_an_unknown_template(app, db_session, clock, use_senders, tmp_path: Path) -> None:
    use_senders(OUTBOX_FILE=str(tmp_path / "outbox.jsonl"))
    app.config["NOTIFICATION_LANGUAGE"] = "en"
    try:
        row = queue("email", "li@example.com", now=clock.now())
        odd = queue("email", "li@example.com", template="brand_new_event", now=clock.now())
        deliver_round(senders_for_app(), now=clock.now())
    finally:
        app.config["NOTIFICATION_LANGUAGE"] = "zh"
    assert _row(row.id).rendered.startswith("Your complaint C-7 has been handled\n")
    assert _row(odd.id).rendered.startswith("Kesu notice: brand_new_event\n")


def test_delivery_is_a_registered_chore(app) -> None:
    chore = app.extensions["kesu.runtime"].chores["notifications.deliver"]
    assert (chore.handler, chore.every_seconds) == (deliver_chore, 10)
