"""The notification outbox: claim due messages, render them, settle each attempt; the staff list.

A message moves ``queued -> sending -> sent``, or back to ``queued`` with a later
``next_attempt_at`` after a failure, and to ``failed`` after the last attempt. Claiming is one
conditional UPDATE per row (``FOR UPDATE SKIP LOCKED`` first on PostgreSQL, as the job queue
does), so two workers never both hold a row; settling checks the attempt number it claimed, so a
worker whose lease ran out cannot overwrite the next worker's result. A worker that dies after
the channel took a message but before settling leaves it ``sending``; when the lease ends it is
sent again (at least once; webhooks carry the idempotency key for the receiver to drop repeats).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment, TemplateNotFound
from sqlalchemy import func, or_, select, update

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models.customer import Customer
from app.models.notification import Notification, NotificationStatus
from app.services.customer_language import template_language
from app.services.notification_senders import DeliveryFailed, Outgoing

S = NotificationStatus
LANGUAGES = ("zh", "en")
BACKOFF_SECONDS = 30          # 30 s, 60 s, 120 s ... doubling per failed attempt
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Claim:
    """A message one worker holds until ``lease_until``: ``attempt`` fences its settlement."""

    notification_id: int
    attempt: int


def _due(now: datetime) -> Any:
    return or_(
        (Notification.status == S.QUEUED.value)
        & or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        (Notification.status == S.SENDING.value) & (Notification.lease_until < now),
    )


def claim_due(*, now: datetime, lease_seconds: int, limit: int) -> list[Claim]:
    """Claim up to ``limit`` due messages (oldest first) for this worker; others skip them."""
    query = select(Notification.id).where(_due(now)).order_by(Notification.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims = []
    for notification_id in db.session.execute(query).scalars().all():
        claimed = db.session.execute(
            update(Notification).where(Notification.id == notification_id, _due(now))
            .values(status=S.SENDING.value, attempts=Notification.attempts + 1,
                    lease_until=now + timedelta(seconds=lease_seconds))
            .returning(Notification.attempts).execution_options(synchronize_session=False)).scalar()
        if claimed is not None:
            claims.append(Claim(notification_id, int(claimed)))
    return claims


def claimed_rows(claims: list[Claim]) -> dict[int, Notification]:
    """Return the claimed rows by id, as the claim left them (one query)."""
    ids = [claim.notification_id for claim in claims]
    if not ids:
        return {}
    rows = db.session.execute(select(Notification).where(Notification.id.in_(ids))
                              .execution_options(populate_existing=True)).scalars()
    return {row.id: row for row in rows}


def _held(claim: Claim) -> Any:
    return ((Notification.id == claim.notification_id) & (Notification.status == S.SENDING.value)
            & (Notification.attempts == claim.attempt))


def renew(claims: list[Claim], *, now: datetime, lease_seconds: int) -> set[int]:
    """Extend the lease of claims still held; return their ids (the others were taken over)."""
    held = set()
    for claim in claims:
        renewed = db.session.execute(update(Notification).where(_held(claim))
                                     .values(lease_until=now + timedelta(seconds=lease_seconds))
                                     .execution_options(synchronize_session=False))
        if renewed.rowcount == 1:
            held.add(claim.notification_id)
    return held


def mark_sent(claim: Claim, *, sender: str, rendered: str, now: datetime) -> bool:
    """Record the delivery; False if the claim was lost (the lease ran out and another worker took it)."""
    done = db.session.execute(update(Notification).where(_held(claim)).values(
        status=S.SENT.value, sent_at=now, sent_by=sender, rendered=rendered, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def mark_failed(claim: Claim, failure: DeliveryFailed, *, rendered: str | None, max_attempts: int,
                now: datetime) -> bool:
    """Record a failed attempt: retry later with backoff, or give up (``failed``) after the last one."""
    final = not failure.retryable or claim.attempt >= max_attempts
    delay = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (claim.attempt - 1))
    done = db.session.execute(update(Notification).where(_held(claim)).values(
        status=S.FAILED.value if final else S.QUEUED.value, lease_until=None, last_error=str(failure)[:2000],
        next_attempt_at=None if final else now + timedelta(seconds=delay), rendered=rendered)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def render(row: Notification, env: Environment, *, language: str) -> tuple[str, str]:
    """Return (subject, text) of a message from ``notifications/<template>.<language>.txt``.

    The template's first line is the subject, the rest the text; an unknown template falls back
    to ``_default`` so that nothing is silently dropped.
    """
    language = language if language in LANGUAGES else LANGUAGES[0]
    context = {**row.payload, "template": row.template, "complaint_id": row.complaint_id,
               "recipient": row.recipient}
    try:
        template = env.get_template(f"notifications/{row.template}.{language}.txt")
    except TemplateNotFound:
        template = env.get_template(f"notifications/_default.{language}.txt")
    subject, _, text = template.render(**context).strip().partition("\n")
    return subject.strip(), text.strip()


def address_of(row: Notification) -> str:
    """Return where the channel sends: the customer's email or phone when the row names a customer."""
    if row.channel in ("portal", "staff", "push") or row.recipient != row.customer_id:
        return row.recipient
    customer = db.session.get(Customer, int(row.customer_id)) if (row.customer_id or "").isdigit() else None
    is_email = row.channel == "email"
    address = None if customer is None else customer.email if is_email else customer.phone
    if not address:
        raise DeliveryFailed(f"customer {row.customer_id} has no {'email address' if is_email else 'phone'} for "
                             f"{row.channel}; the message cannot be sent", retryable=False)
    return address


def language_of(row: Notification, *, default: str) -> str:
    """Return the language a message is written in: its customer's, else ``default`` (KESU_NOTIFICATION_LANGUAGE).

    Staff messages and messages without a known customer are always in ``default``.
    """
    if row.channel == "staff" or not (row.customer_id or "").isdigit():
        return default
    customer = db.session.get(Customer, int(row.customer_id))  # type: ignore[arg-type]
    return template_language(None if customer is None else customer.language, default)


def outgoing(row: Notification, env: Environment, *, default_language: str, now: datetime) -> Outgoing:
    """Return the rendered message of a claimed row (in ``language_of`` it), addressed for its channel."""
    subject, text = render(row, env, language=language_of(row, default=default_language))
    return Outgoing(notification_id=row.id, channel=row.channel, address=address_of(row), subject=subject,
                    text=text, template=row.template, idempotency_key=row.idempotency_key, at=now,
                    customer_id=row.customer_id, complaint_id=row.complaint_id)


def shown_text(row: Notification, env: Environment, *, default_language: str) -> str:
    """Return the text as sent, or for a message not sent yet the text it will be sent with."""
    if row.rendered is not None:
        return row.rendered
    try:
        return "\n".join(render(row, env, language=language_of(row, default=default_language)))
    except Exception as error:  # shown on the staff page; sending records the same error on the row
        return f"(cannot render: {type(error).__name__}: {error})"


def list_messages(*, status: str | None, channel: str | None, limit: int, offset: int
                  ) -> tuple[list[Notification], int]:
    """Return one page of messages, newest first, and how many match."""
    query = select(Notification)
    if status:
        query = query.where(Notification.status == status)
    if channel:
        query = query.where(Notification.channel == channel)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(Notification.id.desc()).limit(limit).offset(offset)
                              .execution_options(populate_existing=True)).scalars()
    return list(rows), int(total)


def customer_messages(customer_id: int, *, limit: int, offset: int) -> tuple[list[Notification], int]:
    """Return one page of the messages written to a customer (every channel), newest first."""
    query = select(Notification).where(Notification.customer_id == str(customer_id))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(Notification.id.desc()).limit(limit).offset(offset)).scalars()
    return list(rows), int(total)


@dataclass(frozen=True)
class ShownMessage:
    """A message as its customer reads it: the row, its subject and text rendered in their language."""

    row: Notification
    subject: str
    text: str


def customer_inbox(customer_id: int, env: Environment, *, language: str, limit: int, offset: int
                   ) -> tuple[list[ShownMessage], int]:
    """Return one page of what was written to a customer, rendered in ``language``, and how many there are."""
    rows, total = customer_messages(customer_id, limit=limit, offset=offset)
    return [ShownMessage(row, *render(row, env, language=language)) for row in rows], total


def retry(notification_id: int, *, now: datetime) -> Notification:
    """Queue a failed message again, with a fresh set of attempts."""
    row = db.session.get(Notification, notification_id, populate_existing=True)  # workers update by statement
    if row is None:
        raise NotFound(f"there is no message {notification_id}")
    if row.status != S.FAILED.value:
        raise Conflict(f"message {notification_id} is {row.status}, not failed; only failed messages are retried")
    row.status, row.attempts, row.next_attempt_at = S.QUEUED.value, 0, now
    db.session.flush()
    return row
