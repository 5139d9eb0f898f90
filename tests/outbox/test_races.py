"""Two workers never send one message twice: claims are exclusive, settling is fenced by the attempt."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from flask import Flask

from app.extensions import db
from app.models.notification import Notification
from app.outbox_worker import deliver_round, senders_for_app
from app.services import outbox
from app.services.notification_senders import build_senders
from tests.outbox.conftest import WEBHOOK_SECRET, queue


def _configure(app: Flask, url: str) -> None:
    app.config.update(SMS_WEBHOOK_URL=f"{url}/sms", NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET, OUTBOX_BATCH_SIZE=5)
    app.extensions["kesu.senders"] = build_senders(app.config, app.instance_path)


def test_two_workers_racing_send_every_message_exactly_once(committed_app: Flask, webhook) -> None:
    _configure(committed_app, webhook.url)
    now = committed_app.extensions["kesu.runtime"].clock.now()
    with committed_app.app_context():
        ids = [queue("sms", f"1380000{n:04d}", key=f"race:{n}", now=now).id for n in range(30)]
        db.session.remove()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with committed_app.app_context():
                start.wait()
                for _ in range(10):
                    deliver_round(senders_for_app(), now=now)
                db.session.remove()
        except BaseException as error:  # reported by the test thread
            errors.append(error)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = Counter(r["key"] for r in webhook.received)
    assert counts == Counter({f"race:{n}": 1 for n in range(30)}), "each message reached the provider once"
    with committed_app.app_context():
        rows = db.session.query(Notification).filter(Notification.id.in_(ids)).all()
        assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
        db.session.remove()


def test_a_claim_is_exclusive_and_a_lost_lease_cannot_settle(committed_app: Flask) -> None:
    clock = committed_app.extensions["kesu.runtime"].clock
    now = clock.now()
    with committed_app.app_context():
        row_id = queue("portal", "42", now=now).id
        [first] = outbox.claim_due(now=now, lease_seconds=60, limit=10)
        db.session.commit()
        assert outbox.claim_due(now=now + timedelta(seconds=59), lease_seconds=60, limit=10) == []
        [second] = outbox.claim_due(now=now + timedelta(seconds=61), lease_seconds=60, limit=10)
        db.session.commit()
        assert (first.notification_id, first.attempt, second.attempt) == (row_id, 1, 2)
        assert outbox.mark_sent(first, sender="portal", rendered="x", now=now) is False, "the old claim is fenced"
        assert outbox.mark_sent(second, sender="portal", rendered="x", now=now) is True
        db.session.commit()
        assert outbox.claim_due(now=now + timedelta(hours=1), lease_seconds=60, limit=10) == []
        db.session.remove()


class SlowSenderWhileAnotherWorkerTakesOver:
    """Sends slowly; during the first message another worker claims the batch's other messages."""

    name = "sms"

    def __init__(self, clock) -> None:  # type: ignore[no-untyped-def]
        self.clock, self.sent = clock, []

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(message.notification_id)
        if len(self.sent) == 1:
            time.sleep(0.6)  # longer than half the 1 s lease: the worker renews before the next message
            outbox.claim_due(now=self.clock.now() + timedelta(seconds=5), lease_seconds=60, limit=10)
            db.session.commit()


def test_a_slow_batch_checks_its_lease_and_skips_what_another_worker_took(app: Flask, db_session, clock) -> None:
    app.config["OUTBOX_LEASE_SECONDS"] = 1
    try:
        first = queue("sms", "13800000001", key="slow:1", now=clock.now())
        second = queue("sms", "13800000002", key="slow:2", now=clock.now())
        sender = SlowSenderWhileAnotherWorkerTakesOver(clock)
        result = deliver_round({"sms": sender}, now=clock.now())
    finally:
        app.config["OUTBOX_LEASE_SECONDS"] = 120
    # The other worker's clock was past our lease, so it took both; we had sent the first already
    # (the one at-least-once case) but never send the second, and cannot settle either.
    assert (result.sent, result.lost, sender.sent) == ([], [first.id, second.id], [first.id])
    db.session.expire_all()
    taken = [db.session.get(Notification, row.id) for row in (first, second)]
    assert {(row.status, row.attempts) for row in taken} == {("sending", 2)}, "the other worker holds them"
