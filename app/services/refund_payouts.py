"""Paying refunds through the gateways: the ``pay_refund`` operator, queries, and the message back.

The exactly-once rules: the refund row and its key are committed before the gateway is
called; a run that finds a send already attempted queries instead of sending; an unclear
answer moves the refund to ``unknown`` and schedules a query; the only repeat of a send is
the identical request (same key) after the gateway answered that it has no record of it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.errors import KesuError, NotFound
from app.extensions import db
from app.models import Job, JobStatus, Refund
from app.payments.errors import GatewayRefused, GatewayUnclear
from app.payments.gateway import GatewayAnswer, RefundOrder
from app.payments.states import RefundState, can_move
from app.runtime import get_runtime
from app.services import jobs, processes, refunds
from app.services.payment_gateways import get_gateway
from app.services.uow import run_command
from workflows.services import ServiceCall, ServiceError

S = RefundState
ACTOR = "gateway"


def pay_refund(call: ServiceCall) -> dict[str, Any]:
    """Create (or find, by the call's key) the refund, commit it, send it once; return its state."""
    params = call.params
    try:
        payment_id = int(params["payment_id"])
    except (KeyError, TypeError, ValueError):
        raise ServiceError("payment_id must be Kesu's payment id (an integer)", code="refund_rejected") from None
    if not params.get("approved_by"):
        raise ServiceError("approved_by is empty: the process must approve a refund before paying it",
                           code="refund_rejected")
    try:
        refund_id = run_command(lambda: _create(call, payment_id).id)
    except KesuError as error:
        raise ServiceError(error.message, code="refund_rejected") from error
    return {"refund_id": refund_id, "state": submit_refund(refund_id)}


def _create(call: ServiceCall, payment_id: int) -> Refund:
    """Create the refund of this call; a new attempt at a failed refund (``retry_of``, ``attempt``) gets its own key."""
    params, source_key, previous = call.params, call.idempotency_key, None
    if params.get("retry_of") not in (None, ""):
        previous, source_key = refunds.check_retry(params["retry_of"], params.get("attempt"), payment_id=payment_id)
    new = refunds.find_by_source(source_key) is None
    refund = refunds.create_refund(
        payment_id, params.get("amount"), str(params.get("currency") or ""), reason=str(params.get("reason") or ""),
        requested_by=str(params.get("requested_by") or "process"), approved_by=str(params["approved_by"]),
        complaint_id=str(params.get("complaint_id") or "") or None, instance_id=call.instance_id,
        source_key=source_key, now=call.now)
    if previous is not None and new:
        refunds.note(previous, "refund.sent_again", actor=str(params["approved_by"]), now=call.now,
                     refund_id=refund.id, attempt=int(params["attempt"]), key=refund.idempotency_key)
    return refund


def submit_refund(refund_id: int) -> str:
    """Send an approved refund to its gateway once; return the refund's state afterwards."""
    state, order = run_command(lambda: _begin_send(refund_id, _now()))
    if order is None:
        return state
    return _send(refund_id, order)


def _begin_send(refund_id: int, now: datetime) -> tuple[str, RefundOrder | None]:
    refund = _locked(refund_id)
    if refund.state != S.APPROVED.value:
        return refund.state, None
    if refund.attempts > 0:  # an earlier run may have reached the gateway: ask, do not send
        refunds.move(refund, S.UNKNOWN, actor=ACTOR, now=now, reason="an earlier send may have reached the gateway")
        schedule_query(refund, now=now, delay=0)
        return refund.state, None
    refund.attempts += 1
    refund.submitted_at = now
    refunds.note(refund, "refund.sending", actor=ACTOR, now=now, key=refund.idempotency_key)
    return refund.state, refunds.order_of(refund)


def _send(refund_id: int, order: RefundOrder) -> str:
    gateway = get_gateway(db.session.get(Refund, refund_id).provider)
    db.session.commit()  # hold no transaction while the gateway answers
    try:
        answer = gateway.submit(order)
    except GatewayRefused as error:
        refusal = error  # `except ... as` names are unbound after the block; keep it explicit
        return run_command(lambda: _refused(refund_id, refusal, _now()))
    except GatewayUnclear as error:
        reason = str(error)
        return run_command(lambda: _unclear(refund_id, reason, _now()))
    return run_command(lambda: _answered(refund_id, answer, "submit", _now()))


def _refused(refund_id: int, refused: GatewayRefused, now: datetime) -> str:
    refund = _locked(refund_id)
    refund.last_error = f"{refused.code}: {refused.message}"
    if can_move(refund.state, S.FAILED):
        refunds.move(refund, S.FAILED, actor=ACTOR, now=now, code=refused.code, reason=refused.message)
    return refund.state


def _unclear(refund_id: int, message: str, now: datetime) -> str:
    refund = _locked(refund_id)
    refund.last_error = message[:2000]
    if can_move(refund.state, S.UNKNOWN) and refund.state != S.UNKNOWN.value:
        refunds.move(refund, S.UNKNOWN, actor=ACTOR, now=now, reason=message[:500])
    schedule_query(refund, now=now)
    return refund.state


def _query_unclear(refund_id: int, message: str, now: datetime) -> str:
    refund = _locked(refund_id)
    refunds.note(refund, "refund.query_unclear", actor=ACTOR, now=now, reason=message[:500])
    schedule_query(refund, now=now)
    return refund.state


def _answered(refund_id: int, answer: GatewayAnswer, source: str, now: datetime) -> str:
    refund = _locked(refund_id)
    apply_gateway_state(refund, answer.state, provider_refund_id=answer.provider_refund_id, amount=answer.amount,
                        source=source, now=now)
    if refund.state in (S.SUBMITTED.value, S.UNKNOWN.value) and source != "submit":
        schedule_query(refund, now=now)
    return refund.state


def apply_gateway_state(refund: Refund, state: str, *, provider_refund_id: str | None, amount: Any,
                        source: str, now: datetime) -> str:
    """Apply what a gateway says (answer, query or notification), only forward; return the outcome."""
    if provider_refund_id and not refund.provider_refund_id:
        refund.provider_refund_id = provider_refund_id
    if amount is not None and amount != refund.amount:
        refunds.raise_alert("amount_mismatch", f"gateway reports {amount} for refund {refund.id} of {refund.amount}",
                            refund_id=refund.id, now=now, source=source)
        return "mismatch"
    target = S(state)
    if refund.state == target.value or (target == S.SUCCEEDED and refund.state == S.RECONCILED.value):
        return "already"
    if can_move(refund.state, target):
        refunds.move(refund, target, actor=ACTOR, now=now, source=source, provider_refund_id=provider_refund_id)
        return f"moved:{target.value}"
    if target == S.SUBMITTED:
        return "stale"  # "processing" after a final state: an out-of-order message
    refunds.raise_alert("state_mismatch", f"gateway says refund {refund.id} {target.value} but Kesu has it "
                        f"{refund.state}; check the gateway's ledger", refund_id=refund.id, now=now, source=source)
    return "mismatch"


def schedule_query(refund: Refund, *, now: datetime, delay: float | None = None) -> None:
    """Queue one query of this refund (once per query round)."""
    if delay is None:
        base = current_app.config["PAYMENTS_QUERY_DELAY_SECONDS"]
        delay = min(600, base * (2 ** min(refund.queries, 7)))
    jobs.enqueue("payments.query", "query_refund", {"refund_id": refund.id}, f"refund-query:{refund.id}:{refund.queries}",
                 now=now, run_at=now + timedelta(seconds=delay), max_attempts=10)


def query_refund(refund_id: int) -> str:
    """Ask the gateway about a refund and apply its word; re-send the same key only if it has no record."""
    state, order = run_command(lambda: _begin_query(refund_id, _now()))
    if order is None:
        return state
    gateway = get_gateway(db.session.get(Refund, refund_id).provider)
    db.session.commit()
    try:
        answer = gateway.query(order)
    except GatewayUnclear as error:
        reason = str(error)
        return run_command(lambda: _query_unclear(refund_id, reason, _now()))
    outcome = run_command(lambda: _queried(refund_id, answer, _now()))
    if outcome == "resend":
        return _send(refund_id, order)
    return outcome


def _begin_query(refund_id: int, now: datetime) -> tuple[str, RefundOrder | None]:
    refund = _locked(refund_id)
    if refund.state not in (S.SUBMITTED.value, S.UNKNOWN.value, S.SUCCEEDED.value):
        return refund.state, None
    refund.queries += 1
    return refund.state, refunds.order_of(refund)


def _queried(refund_id: int, answer: GatewayAnswer, now: datetime) -> str:
    refund = _locked(refund_id)
    refunds.note(refund, "refund.queried", actor=ACTOR, now=now, answer=answer.state, detail=answer.detail[:200])
    if answer.state == "not_found":
        if refund.state == S.UNKNOWN.value:
            refund.attempts += 1
            refunds.note(refund, "refund.resent", actor=ACTOR, now=now, key=refund.idempotency_key,
                         reason="the gateway has no record of this key; the identical request is sent again")
            return "resend"
        refunds.raise_alert("missing_at_gateway", f"refund {refund.id} is {refund.state} in Kesu but the gateway "
                            f"has no record of it", refund_id=refund.id, now=now)
        return refund.state
    if refund.state == S.SUCCEEDED.value and answer.state == S.SUCCEEDED.value and answer.amount == refund.amount:
        refunds.move(refund, S.RECONCILED, actor=ACTOR, now=now, source="query")
        return refund.state
    return _answered(refund_id, answer, "query", now)


def deliver_result(refund_id: int, job: Job, now: datetime) -> None:
    """Send ``refund_result`` to the waiting instance; wait for it to reach the catch event if needed."""
    refund = refunds.get_refund(refund_id)
    state = S.SUCCEEDED.value if refund.state in (S.SUCCEEDED.value, S.RECONCILED.value) else refund.state
    payload = {"refund_id": refund.id, "state": state, "provider_refund_id": refund.provider_refund_id,
               "reason": refund.last_error or ""}
    try:
        processes.deliver_message(refunds.RESULT_MESSAGE, {"refund_id": refund.id}, payload, actor=ACTOR, now=now)
    except NotFound:
        if refund.instance_id is not None and not _service_call_settled(refund):
            jobs.fail(job, now=now, error="the instance has not reached its refund_result catch event yet",
                      retryable=True)
            return
        refunds.note(refund, "refund.result_unclaimed", actor=ACTOR, now=now, state=state)
    else:
        refunds.note(refund, "refund.result_delivered", actor=ACTOR, now=now, state=state,
                     instance_id=refund.instance_id)
    jobs.finish(job, now=now)


def _service_call_settled(refund: Refund) -> bool:
    status = db.session.execute(select(Job.status).where(Job.idempotency_key == refund.source_key)).scalar()
    return status in (None, JobStatus.DONE.value, JobStatus.FAILED.value)


def _locked(refund_id: int) -> Refund:
    refund = db.session.execute(select(Refund).where(Refund.id == refund_id).with_for_update()
                                .execution_options(populate_existing=True)).scalar_one_or_none()
    if refund is None:
        raise NotFound(f"refund {refund_id} does not exist")
    return refund


def _now() -> datetime:
    return get_runtime().clock.now()
