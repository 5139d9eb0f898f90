"""Gateway notifications: ``POST /payments/notify/<provider>`` (CSRF-exempt, verified by signature)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from app.extensions import csrf
from app.payments.errors import NotificationRejected
from app.runtime import get_runtime
from app.services.payment_gateways import get_gateway
from app.services.payment_notifications import receive_notification
from app.services.uow import run_command

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/notify/<provider>")
@csrf.exempt
def notify(provider: str) -> Response:
    """Verify the raw body, apply the notification, and answer only after it is committed."""
    gateway = get_gateway(provider)
    body, now = request.get_data(cache=False), get_runtime().clock.now()
    try:
        run_command(lambda: receive_notification(provider, request.headers, body, now=now))
        ack = gateway.acknowledge(True)
    except NotificationRejected as error:
        ack = gateway.acknowledge(False, error.message)
    return Response(ack.body, status=ack.status, content_type=ack.content_type)
