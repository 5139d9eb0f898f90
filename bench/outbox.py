"""Time outbox delivery: N queued messages delivered by 1 or 2 workers through a signed webhook on loopback.

    .venv/bin/python bench/outbox.py [--n 2000] [--workers 2]   (PostgreSQL when DATABASE_URL is set)

Queues N SMS messages, starts a threaded werkzeug receiver that checks every HMAC signature, and
runs ``deliver_round`` in each worker thread until nothing is due. Prints messages/s and checks
that every message reached the receiver exactly once. Last line: JSON.
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import argparse  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import FrozenClock  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models.notification import Notification  # noqa: E402
from app.outbox_worker import deliver_round, senders_for_app  # noqa: E402
from app.services.notification_senders import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature  # noqa: E402
from config import TestingConfig  # noqa: E402

SECRET = "bench-secret"


def receiver(received: Counter[str], lock: threading.Lock) -> Any:
    """A WSGI app that verifies the signature and counts each idempotency key."""
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        valid = hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""),
                                    signature(SECRET, request.headers.get(TIMESTAMP_HEADER, ""), body))
        with lock:
            received[request.headers.get("Idempotency-Key", "") if valid else "(bad signature)"] += 1
        return Response("ok")(environ, start_response)
    return app


def queue(app: Flask, n: int, now: Any) -> None:
    """Write N queued SMS messages."""
    with app.app_context():
        db.session.add_all([Notification(channel="sms", recipient=f"138{i:08d}", complaint_id=f"C-{i}",
                                         template="information_requested", payload={"question": "请上传照片"},
                                         status="queued", idempotency_key=f"bench:{i}", created_at=now)
                            for i in range(n)])
        db.session.commit()
        db.session.remove()


def work(app: Flask, now: Any) -> None:
    """Deliver rounds until a round finds nothing to do."""
    with app.app_context():
        while True:
            result = deliver_round(senders_for_app(), now=now)
            if not (result.sent or result.retrying or result.lost):
                break
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    received: Counter[str] = Counter()
    server = make_server("127.0.0.1", 0, receiver(received, threading.Lock()), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/outbox.db"
    clock = FrozenClock()
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, CLOCK=clock, INSTANCE_DIR=tempfile.mkdtemp(),
                     SMS_WEBHOOK_URL=f"http://127.0.0.1:{server.server_port}/sms", NOTIFY_WEBHOOK_SECRET=SECRET,
                     OUTBOX_BATCH_SIZE=50)
    with app.app_context():
        upgrade(revision="heads")
    queue(app, args.n, clock.now())
    threads = [threading.Thread(target=work, args=(app, clock.now())) for _ in range(args.workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server.shutdown()
    once = all(received[f"bench:{i}"] == 1 for i in range(args.n)) and sum(received.values()) == args.n
    print(f"{args.n} messages by {args.workers} worker(s) on {url.split(':')[0]} in {elapsed:.2f} s; "
          f"each received exactly once: {once}")
    print(json.dumps({"messages": args.n, "workers": args.workers, "seconds": round(elapsed, 2),
                      "messages_per_s": round(args.n / elapsed, 1), "exactly_once": once}))


if __name__ == "__main__":
    main()
