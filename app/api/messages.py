"""`/messages`: deliver a message to the one instance waiting for it."""
from __future__ import annotations

from typing import Any

from app.api import api, present, schemas
from app.models import User
from app.runtime import get_runtime
from app.services import processes
from app.services.uow import run_command


@api.route("/messages", "POST", summary="Deliver a message to the instance waiting with these correlations",
           tag="messages", permission="deliver_messages", body=schemas.MESSAGE_BODY, response=schemas.INSTANCE,
           errors=(404, 409, 422))
def deliver_message(user: User, body: dict[str, Any]) -> dict[str, Any]:
    now = get_runtime().clock.now()
    return run_command(lambda: present.instance(processes.deliver_message(
        body["name"], body.get("correlations", {}), body.get("payload", {}), actor=user.username, now=now),
        now=now))
