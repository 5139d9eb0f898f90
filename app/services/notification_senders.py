"""Channel senders of the outbox: email by SMTP, SMS and app push by signed webhook, portal, file.

A registry maps each channel to one sender built from the config. In the embedded default
(no SMTP host, no webhook URL) email, SMS and push go to the *outbox file* sender, which
records what would have been sent; the `/outbox` page shows the same from the database.

Senders raise ``DeliveryFailed``; ``retryable`` says whether trying later may help (a timeout,
a 5xx, a 4xx SMTP reply) or not (a refused address, a 4xx from the webhook).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Mapping, Protocol

import requests

SIGNATURE_HEADER = "X-Kesu-Signature"
TIMESTAMP_HEADER = "X-Kesu-Timestamp"


class DeliveryFailed(Exception):
    """The channel did not take the message; ``retryable`` when a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Outgoing:
    """One rendered message on its way to one address."""

    notification_id: int
    channel: str
    address: str
    subject: str
    text: str
    template: str
    idempotency_key: str
    at: datetime                      # the worker's clock when sending (the webhook timestamp)
    customer_id: str | None = None
    complaint_id: str | None = None


class Sender(Protocol):
    name: str

    def send(self, message: Outgoing) -> None: ...


class InAppSender:
    """Portal and staff messages: delivered by being stored; the reader sees them in the app."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, message: Outgoing) -> None:
        return None


class OutboxFileSender:
    """The embedded default: append what would have been sent to a JSON-lines file."""

    name = "outbox-file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Outgoing) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(message), ensure_ascii=False, default=str) + "\n")


class SmtpSender:
    """Email through an SMTP server (STARTTLS and login when configured), one connection per message."""

    name = "smtp"

    def __init__(self, *, host: str, port: int, sender: str, user: str = "", password: str = "",
                 starttls: bool = True, timeout: float = 10.0, ca_file: str = "") -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout
        self.ca_file = ca_file

    def send(self, message: Outgoing) -> None:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.sender, message.address, message.subject
        email["X-Kesu-Notification"] = message.idempotency_key
        email.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file or None))
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            raise DeliveryFailed(f"the mail server refused {message.address}: {refused.recipients}",
                                 retryable=False) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(f"the mail server answered {error.smtp_code}: {error.smtp_error!r}",
                                 retryable=error.smtp_code < 500) from None
        except smtplib.SMTPException as error:
            raise DeliveryFailed(f"the mail server {self.host}:{self.port} ended the session: {error}",
                                 retryable=True) from None
        except OSError as error:
            raise DeliveryFailed(f"could not reach the mail server {self.host}:{self.port}: {error}",
                                 retryable=True) from None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return the webhook signature: ``sha256=`` HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class WebhookSender:
    """SMS or app push through the provider's webhook: a signed JSON POST with explicit timeouts."""

    def __init__(self, name: str, *, url: str, secret: str, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0) -> None:
        self.name, self.url, self.secret = name, url, secret
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()

    def send(self, message: Outgoing) -> None:
        body = json.dumps({"id": message.idempotency_key, "channel": message.channel, "to": message.address,
                           "subject": message.subject, "text": message.text, "template": message.template,
                           "complaint_id": message.complaint_id}, ensure_ascii=False).encode("utf-8")
        stamp = str(int(message.at.timestamp()))
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key,
                   TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(self.secret, stamp, body)}
        try:
            answer = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise DeliveryFailed(f"the {self.name} webhook did not answer: {type(error).__name__}",
                                 retryable=True) from None
        if answer.status_code >= 300:
            retryable = answer.status_code >= 500 or answer.status_code == 429
            raise DeliveryFailed(f"the {self.name} webhook answered {answer.status_code}: {answer.text[:200]}",
                                 retryable=retryable)


def build_senders(config: Mapping[str, Any], instance_path: str) -> dict[str, Sender]:
    """Return the sender of each channel, as configured (the outbox file where nothing is)."""
    recorder = OutboxFileSender(Path(config.get("OUTBOX_FILE") or Path(instance_path) / "outbox.jsonl"))
    senders: dict[str, Sender] = {"portal": InAppSender("portal"), "staff": InAppSender("staff-inbox"),
                                  "email": recorder, "sms": recorder, "push": recorder}
    if config.get("SMTP_HOST"):
        senders["email"] = SmtpSender(host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]),
                                      sender=config["SMTP_FROM"], user=config.get("SMTP_USER", ""),
                                      password=config.get("SMTP_PASSWORD", ""),
                                      starttls=bool(config.get("SMTP_STARTTLS", True)),
                                      timeout=float(config.get("SMTP_TIMEOUT_SECONDS", 10)),
                                      ca_file=config.get("SMTP_CA_FILE", ""))
    for channel in ("sms", "push"):
        url = config.get(f"{channel.upper()}_WEBHOOK_URL")
        if url and not config.get("NOTIFY_WEBHOOK_SECRET"):
            raise ValueError(f"KESU_{channel.upper()}_WEBHOOK_URL is set but KESU_NOTIFY_WEBHOOK_SECRET is empty; "
                             "set the secret the provider verifies signatures with")
        if url:
            senders[channel] = WebhookSender(channel, url=url, secret=config["NOTIFY_WEBHOOK_SECRET"],
                                             connect_timeout=float(config.get("WEBHOOK_CONNECT_TIMEOUT", 3)),
                                             read_timeout=float(config.get("WEBHOOK_READ_TIMEOUT", 10)))
    return senders
