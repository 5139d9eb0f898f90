"""The refund a task's form may ask for: within what the payment can still give back, in whole fen;
and "paid by hand" only for a refund the gateway definitely failed.

One check for both ways a task is completed: the task page (app/views/tasks.py) and the staff API
(task_work.complete).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.errors import ValidationFailed
from app.extensions import db
from app.models import HumanTask, Payment, ProcessInstance, Refund
from app.payments.states import RefundState
from app.services import staff_forms


def check_refund_form(task: HumanTask, data: dict[str, Any], *, now: datetime) -> None:
    """Refuse (422, on the form) what the task's refund choices may not ask for (see the two checks)."""
    if data.get("failed_refund_action") == "mark_paid":
        _check_mark_paid(task, now=now)
    _check_amount(task, data, now=now)


def _check_mark_paid(task: HumanTask, *, now: datetime) -> None:
    """Paid by hand only once the gateway definitely failed the refund: one still in flight (no answer
    within 24 h) may yet be paid by the gateway, and paying it by hand too would pay it twice."""
    from app.services.processes import load_execution
    instance = db.session.get(ProcessInstance, task.instance_id)
    if instance is None or instance.state is None:
        return
    refund_info = load_execution(instance, now=now).task_data(task.task_id).get("refund")  # the call activity's
    refund_id = refund_info.get("refund_id") if isinstance(refund_info, dict) else None
    refund = db.session.get(Refund, refund_id) if isinstance(refund_id, int) else None
    if refund is not None and refund.state != RefundState.FAILED.value:
        raise ValidationFailed(staff_forms.CORRECT_THE_FIELDS, fields={
            "failed_refund_action": f"退款 #{refund.id} 状态为 {refund.state}，尚未确定失败，请先重新查询 / refund "
                                    f"#{refund.id} is {refund.state}, not failed: query the gateway again first"})


def _check_amount(task: HumanTask, data: dict[str, Any], *, now: datetime) -> None:
    """Refuse (422, on the form) a refund above the refundable amount or in fractions of a cent.

    refund_approval.bpmn makes the first check (refundable = amount_paid - already_refunded) only after
    the task is completed, and then sends the case back to a new, unclaimed task that does not say why;
    refunds.create_refund refuses the second only when paying, after the approval, as a failed refund.
    The payment's own row counts too: already_refunded is copied at the start, and another complaint
    about the same order may have been refunded since (create_refund would refuse it at payment).
    """
    amount = data.get("refund_amount")
    if data.get("outcome") != "refund" or isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return
    if round(amount, 2) != amount:
        raise ValidationFailed(staff_forms.CORRECT_THE_FIELDS, fields={
            "refund_amount": "最多两位小数 / at most two decimals (yuan and fen)"})
    from app.services.instance_queries import instance_data  # it reads task_work, which calls this
    instance = db.session.get(ProcessInstance, task.instance_id)
    values = instance_data(instance, now=now) if instance else {}
    try:
        refundable = round(float(values["amount_paid"]) - float(values.get("already_refunded") or 0), 2)
    except (KeyError, TypeError, ValueError):
        return
    payment = db.session.get(Payment, values["payment_id"]) if isinstance(values.get("payment_id"), int) else None
    if payment is not None:
        refundable = min(refundable, float(payment.amount - payment.amount_reserved))
    if amount > refundable:
        raise ValidationFailed(staff_forms.CORRECT_THE_FIELDS, fields={
            "refund_amount": f"不能大于可退金额 {refundable:.2f} / must be at most the refundable {refundable:.2f}"})
