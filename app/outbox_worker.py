"""Deliver the notification outbox: a scheduler chore (every ``EVERY_SECONDS``) and `flask outbox send`.

Each round claims a batch in one short transaction, talks to the channels with no transaction
open, and settles each message in its own transaction (``app.services.outbox`` explains the
states and why a message is sent once).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from app.models.notification import Notification
from app.runtime import Runtime, get_runtime
from app.services import outbox
from app.services.notification_senders import DeliveryFailed, Outgoing, Sender, build_senders
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


@dataclass
class Prepared:
    """A claimed message, rendered and addressed in the claim's transaction, or why it cannot be."""

    claim: outbox.Claim
    sender: Sender | None = None
    message: Outgoing | None = None
    failure: DeliveryFailed | None = None

    @property
    def rendered(self) -> str | None:
        return None if self.message is None else f"{self.message.subject}\n{self.message.text}"


def deliver_round(senders: dict[str, Sender], *, now: datetime) -> Round:
    """Claim due messages and send each through its channel's sender once."""
    config = current_app.config

    def claim_and_prepare() -> list[Prepared]:
        claims = outbox.claim_due(now=now, lease_seconds=config["OUTBOX_LEASE_SECONDS"],
                                  limit=config["OUTBOX_BATCH_SIZE"])
        rows = outbox.claimed_rows(claims)
        return [_prepare(claim, rows[claim.notification_id], senders, now=now) for claim in claims]
    result = Round()
    batch = run_command(claim_and_prepare)  # committed: no transaction is open while sending
    renew_at = time.monotonic() + config["OUTBOX_LEASE_SECONDS"] / 2
    for position, prepared in enumerate(batch):
        if time.monotonic() > renew_at:  # slow channels: keep the rest of the batch ours
            held = _renew(batch[position:])
            renew_at = time.monotonic() + config["OUTBOX_LEASE_SECONDS"] / 2
            if prepared.claim.notification_id not in held:
                result.lost.append(prepared.claim.notification_id)
                continue
        _deliver(prepared, result, now=now)
    return result


def _renew(rest: list[Prepared]) -> set[int]:
    now, lease = get_runtime().clock.now(), current_app.config["OUTBOX_LEASE_SECONDS"]
    held = run_command(lambda: outbox.renew([p.claim for p in rest], now=now, lease_seconds=lease))
    for prepared in rest:
        if prepared.claim.notification_id not in held:
            prepared.failure = DeliveryFailed("the lease ran out and another worker took this message over",
                                              retryable=True)
    return held


def _prepare(claim: outbox.Claim, row: Notification, senders: dict[str, Sender], *, now: datetime) -> Prepared:
    sender = senders.get(row.channel)
    if sender is None:
        return Prepared(claim, failure=DeliveryFailed(f"no sender for channel '{row.channel}'; known: "
                                                      f"{', '.join(senders)}", retryable=False))
    try:
        message = outbox.outgoing(row, current_app.jinja_env,
                                  default_language=current_app.config["NOTIFICATION_LANGUAGE"], now=now)
    except DeliveryFailed as failure:
        return Prepared(claim, sender, failure=failure)
    except Exception as error:  # a template bug: recorded on the message, retried, then failed
        log.exception("message %s: rendering raised", row.id)
        return Prepared(claim, sender, failure=DeliveryFailed(f"{type(error).__name__}: {error}", retryable=True))
    return Prepared(claim, sender, message)


def _deliver(prepared: Prepared, result: Round, *, now: datetime) -> None:
    claim, failure = prepared.claim, prepared.failure or _send(prepared)
    if failure is None:
        assert prepared.sender is not None
        name, rendered = prepared.sender.name, prepared.rendered or ""
        held = run_command(lambda: outbox.mark_sent(claim, sender=name, rendered=rendered, now=now))
        (result.sent if held else result.lost).append(claim.notification_id)
        return
    log.warning("message %s attempt %s failed: %s", claim.notification_id, claim.attempt, failure)
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    held = run_command(lambda: outbox.mark_failed(claim, failure, rendered=prepared.rendered,
                                                  max_attempts=max_attempts, now=now))
    final = not failure.retryable or claim.attempt >= max_attempts
    (result.lost if not held else result.failed if final else result.retrying).append(claim.notification_id)


def _send(prepared: Prepared) -> DeliveryFailed | None:
    """Hand the message to its channel; return the failure, or None when the channel took it."""
    assert prepared.sender is not None and prepared.message is not None
    try:
        prepared.sender.send(prepared.message)
    except DeliveryFailed as failure:
        return failure
    except Exception as error:  # a sender bug: recorded on the message, retried, then failed
        log.exception("message %s: sending raised", prepared.claim.notification_id)
        return DeliveryFailed(f"{type(error).__name__}: {error}", retryable=True)
    return None


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
