"""Deliver the notification outbox: a scheduler chore (every ``EVERY_SECONDS``) and `flask outbox send`.

Each round claims a batch in one short transaction, talks to the channels with no transaction
open, and settles each message in its own transaction (``app.services.outbox`` explains the
states and why a message is sent once).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from app.extensions import db
from app.models.notification import Notification
from app.runtime import Runtime
from app.services import outbox
from app.services.notification_senders import DeliveryFailed, Sender, build_senders
from app.services.uow import run_command

log = logging.getLogger("kesu.outbox")
EVERY_SECONDS = 10


@dataclass
class Round:
    """What one delivery round did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)   # claims another worker took over after our lease ran out


def deliver_round(senders: dict[str, Sender], *, now: datetime) -> Round:
    """Claim due messages and send each through its channel's sender once."""
    config = current_app.config
    claims = run_command(lambda: outbox.claim_due(now=now, lease_seconds=config["OUTBOX_LEASE_SECONDS"],
                                                  limit=config["OUTBOX_BATCH_SIZE"]))
    result = Round()
    for claim in claims:
        _deliver(claim, senders, result, now=now)
    return result


def _deliver(claim: outbox.Claim, senders: dict[str, Sender], result: Round, *, now: datetime) -> None:
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    row = db.session.get(Notification, claim.notification_id)
    db.session.commit()  # hold no transaction while the channel answers
    sender_name, rendered, failure = _send(row, senders, now=now)
    if failure is None:
        held = run_command(lambda: outbox.mark_sent(claim, sender=sender_name, rendered=rendered or "", now=now))
        (result.sent if held else result.lost).append(claim.notification_id)
        return
    log.warning("message %s attempt %s failed: %s", claim.notification_id, claim.attempt, failure)
    held = run_command(lambda: outbox.mark_failed(claim, failure, rendered=rendered, max_attempts=max_attempts,
                                                  now=now))
    final = not failure.retryable or claim.attempt >= max_attempts
    (result.lost if not held else result.failed if final else result.retrying).append(claim.notification_id)


def _send(row: Notification, senders: dict[str, Sender], *, now: datetime
          ) -> tuple[str, str | None, DeliveryFailed | None]:
    """Render and hand one message to its channel; return (sender, rendered text, failure or None)."""
    sender = senders.get(row.channel)
    if sender is None:
        return "", None, DeliveryFailed(f"no sender for channel '{row.channel}'; known: {', '.join(senders)}",
                                        retryable=False)
    rendered = None
    try:
        message = outbox.outgoing(row, current_app.jinja_env, language=current_app.config["NOTIFICATION_LANGUAGE"],
                                  now=now)
        rendered = f"{message.subject}\n{message.text}"
        sender.send(message)
    except DeliveryFailed as failure:
        return sender.name, rendered, failure
    except Exception as error:  # a template or sender bug: recorded on the message, retried, then failed
        log.exception("message %s: sending raised", row.id)
        return sender.name, rendered, DeliveryFailed(f"{type(error).__name__}: {error}", retryable=True)
    return sender.name, rendered, None


def senders_for_app() -> dict[str, Sender]:
    """The channel senders of this app (built once; tests replace them in ``app.extensions``)."""
    extensions = current_app.extensions
    if "kesu.senders" not in extensions:
        extensions["kesu.senders"] = build_senders(current_app.config, current_app.instance_path)
    return extensions["kesu.senders"]


def deliver_chore(now: datetime) -> None:
    """The scheduler's chore: deliver whatever is due, a batch at a time, until nothing is."""
    for _ in range(current_app.config["OUTBOX_MAX_BATCHES"]):
        if not any(vars(deliver_round(senders_for_app(), now=now)).values()):
            return


def register_outbox(runtime: Runtime) -> None:
    """Register the delivery chore."""
    runtime.register_chore("notifications.deliver", deliver_chore, every_seconds=EVERY_SECONDS)
