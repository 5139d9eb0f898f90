"""Outbox fixtures: a real SMTP server (aiosmtpd), a real webhook receiver (werkzeug), queued messages."""
from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.extensions import db
from app.models.customer import Customer
from app.models.notification import Notification
from app.services.notification_senders import SIGNATURE_HEADER, TIMESTAMP_HEADER, build_senders, signature

WEBHOOK_SECRET = "test-webhook-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class MailBox:
    """What the SMTP server received; ``refuse`` makes it answer 550 to these recipients."""

    messages: list[Envelope] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted"


@dataclass
class SmtpServer:
    host: str
    port: int
    box: MailBox
    ca_file: str | None = None


def _authenticate(box: MailBox) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = auth_data.login == b"kesu" and auth_data.password == b"mail-pw"
        if ok:
            box.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)
    return check


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on loopback that wants a login (user kesu, password mail-pw)."""
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=_authenticate(box),
                            auth_require_tls=False)
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, box)
    controller.stop()


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def starttls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server that refuses to take mail before STARTTLS (a self-signed certificate)."""
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=_authenticate(box))
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, box, ca_file=cert_file)
    controller.stop()


@dataclass
class Receiver:
    """A webhook receiver that checks the signature; ``answers`` scripts its status codes in order."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        valid = hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""),
                                    signature(WEBHOOK_SECRET, stamp, body))
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.received.append({"path": request.path, "json": json.loads(body), "valid": valid,
                                  "key": request.headers.get("Idempotency-Key"), "stamp": stamp})
            status = self.answers.pop(0) if self.answers else 200
        return Response("bad signature" if not valid else "ok", status=401 if not valid else status)(
            environ, start_response)


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    """A threaded HTTP server on loopback receiving SMS (/sms) and push (/push) webhooks."""
    receiver = Receiver(url="")
    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    thread.join()


@pytest.fixture
def use_senders(app: Flask) -> Iterator[Callable[..., None]]:
    """Configure the channel senders for one test (the outbox file and in-app ones by default)."""
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD",
                                             "SMTP_STARTTLS", "SMTP_CA_FILE", "SMS_WEBHOOK_URL",
                                             "PUSH_WEBHOOK_URL", "NOTIFY_WEBHOOK_SECRET", "WEBHOOK_READ_TIMEOUT",
                                             "OUTBOX_MAX_ATTEMPTS", "OUTBOX_FILE")}

    def configure(**settings: Any) -> None:
        app.config.update(saved)
        app.config.update(NOTIFY_WEBHOOK_SECRET=WEBHOOK_SECRET, **settings)
        app.extensions["kesu.senders"] = build_senders(app.config, app.instance_path)
    configure()
    yield configure
    app.config.update(saved)
    app.extensions.pop("kesu.senders", None)


def add_customer(name: str = "王芳", phone: str | None = "13800000009",
                 email: str | None = "wangfang@example.com", *, now: dt.datetime) -> Customer:
    customer = Customer(name=name, phone=phone, email=email, tier="normal", created_at=now)
    db.session.add(customer)
    db.session.flush()
    return customer


def queue(channel: str, recipient: str, *, now: dt.datetime, template: str = "resolution",
          customer_id: str | None = None, key: str | None = None, **payload: Any) -> Notification:
    """Write a queued message as a process step would."""
    row = Notification(channel=channel, recipient=recipient, customer_id=customer_id, complaint_id="C-7",
                       template=template, payload=payload or {"outcome": "reply", "reply": "已为您补发"},
                       status="queued", idempotency_key=key or f"test:{channel}:{recipient}:{template}",
                       created_at=now)
    db.session.add(row)
    db.session.commit()
    return row
