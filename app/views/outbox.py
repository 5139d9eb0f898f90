"""`/outbox`: every notification with its channel, recipient, text, status, attempts and error.

In the embedded default (no SMTP server, no SMS/push webhook) this page is where staff see what
would have been sent; in production it shows what was sent and what failed, with a retry button.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.outbox_worker import senders_for_app
from app.runtime import get_runtime
from app.services import outbox
from app.services.uow import run_command
from app.views.access import role_required
from app.views.customer_access import safe_next

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
PAGE_SIZE = 50
STATUSES = {"queued": "待发送 Queued", "sending": "发送中 Sending", "sent": "已发送 Sent", "failed": "失败 Failed"}
CHANNELS = {"portal": "站内 Portal", "email": "邮件 Email", "sms": "短信 SMS", "push": "推送 Push",
            "staff": "员工 Staff"}


@bp.get("")
@role_required("supervisor")
def index() -> str:
    """List messages, newest first; filter by status and channel."""
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    channel = request.args.get("channel") if request.args.get("channel") in CHANNELS else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = outbox.list_messages(status=status, channel=channel, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    default = current_app.config["NOTIFICATION_LANGUAGE"]
    messages = [(row, _without_sign_in_tokens(outbox.shown_text(row, current_app.jinja_env, default_language=default)))
                for row in rows]
    return render_template("outbox/index.html", messages=messages, total=total, page=page, page_size=PAGE_SIZE,
                           status=status, channel=channel, statuses=STATUSES, channels=CHANNELS,
                           senders=_sender_names())


# A one-time sign-in link (/account/link/<token>) signs in as the customer: staff see where it went, not the token.
SIGN_IN_TOKEN = re.compile(r"(/account/link/)[^\s<>\"']+")


def _without_sign_in_tokens(text: str) -> str:
    return SIGN_IN_TOKEN.sub(r"\1…", text)


def _sender_names() -> dict[str, str]:
    return {channel: sender.name for channel, sender in senders_for_app().items()}


@bp.post("/<int:notification_id>/retry")
@role_required("supervisor")
def retry(notification_id: int) -> Response:
    """Queue a failed message again (after fixing the address or the channel's settings)."""
    now = get_runtime().clock.now()
    run_command(lambda: outbox.retry(notification_id, now=now))
    flash(f"已重新排队 Message {notification_id} is queued again.")
    return redirect(safe_next(request.form.get("next"), url_for("outbox.index")))
