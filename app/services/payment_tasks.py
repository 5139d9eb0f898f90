"""Background work of the payment layer: query and result jobs, the reconciliation chore, registration."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import or_, select

from app.errors import KesuError
from app.extensions import db
from app.models import Job, Refund
from app.payments.states import RefundState
from app.runtime import get_runtime
from app.services import audit, jobs, refunds
from app.services.refund_payouts import deliver_result, pay_refund, query_refund, schedule_query
from app.services.uow import run_command
from app.worker import register_job_kind
from workflows.services import ServiceCall, ServiceError

if TYPE_CHECKING:
    from app.runtime import Runtime

S = RefundState
PAY_REFUND_PARAMETERS = ("payment_id", "amount", "currency", "reason", "requested_by", "approved_by",
                         "complaint_id", "retry_of", "attempt")


def run_query_job(job: Job) -> None:
    """Query one refund at its gateway (outside any transaction), then mark the job done."""
    query_refund(job.params["refund_id"])
    run_command(lambda: jobs.finish(db.session.get(Job, job.id), now=get_runtime().clock.now()))


def run_result_job(job: Job) -> None:
    """Deliver ``refund_result`` to the waiting instance in the same unit of work as the job's done mark."""
    def command() -> None:
        deliver_result(job.params["refund_id"], db.session.get(Job, job.id), get_runtime().clock.now())
    run_command(command, retries=get_runtime().conflict_retries)


def mark_refund_paid(call: ServiceCall) -> dict[str, Any]:
    """The finance task's "paid by hand": record it on the refund, in the process's own transaction.

    The refund must have definitely failed (the form refuses the choice otherwise, see
    refund_limits); a race that paid it meanwhile is an incident that names the double payment.
    When the payment step refused before any refund row existed, the manual payment is recorded
    in the system audit chain with the complaint and amount instead.
    """
    params = call.params
    reason, actor = str(params.get("reason") or "").strip(), str(params.get("actor") or "finance")
    if params.get("failed_refund_id") is None:
        audit.record_system_event("refund.paid_manually", {
            "refund_id": None, "complaint_id": params.get("complaint_id"), "amount": str(params.get("amount")),
            "reason": reason}, actor=actor, now=call.now)
        return {"refund_id": None, "state": S.PAID_MANUALLY.value}
    try:
        refund = refunds.mark_paid_manually(int(params["failed_refund_id"]), reason=reason, actor=actor, now=call.now)
    except KesuError as error:  # already paid (a double payment to sort out), or not failed, or gone
        raise ServiceError(f"refund {params['failed_refund_id']} cannot be marked paid by hand: {error.message}",
                           code="refund_not_markable") from error
    return {"refund_id": refund.id, "state": refund.state}


def reconcile(now: datetime) -> int:
    """Queue a query for every unknown, long-submitted or not yet reconciled refund; return how many."""
    stale = now - timedelta(seconds=current_app.config["PAYMENTS_SUBMITTED_STALE_SECONDS"])
    due = db.session.execute(select(Refund).where(or_(
        Refund.state == S.UNKNOWN.value,
        (Refund.state == S.SUBMITTED.value) & (Refund.updated_at <= stale),
        Refund.state == S.SUCCEEDED.value)).order_by(Refund.id).limit(1000)).scalars().all()
    for refund in due:
        schedule_query(refund, now=now, delay=0)
    return len(due)


def register_payments(runtime: Runtime) -> None:
    """Register ``pay_refund`` (asynchronous), the payment job kinds and the reconciliation chore."""
    runtime.operators.register("pay_refund", pay_refund, asynchronous=True, parameters=PAY_REFUND_PARAMETERS,
                               description="Pay an approved refund through the order's gateway, exactly once",
                               retries=3)
    runtime.operators.register("mark_refund_paid", mark_refund_paid,
                               parameters=("failed_refund_id", "reason", "actor", "complaint_id", "amount"),
                               description="Record on a failed refund that finance paid it by hand (audited)")
    register_job_kind("payments.query", run_query_job)
    register_job_kind("payments.result", run_result_job)
    runtime.register_chore("payments.reconcile", reconcile, every_seconds=60)
