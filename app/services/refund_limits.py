"""The refund a task's form may ask for: within what the payment can still give back, in whole fen.

One check for both ways a task is completed: the task page (app/views/tasks.py) and the staff API
(task_work.complete).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.errors import ValidationFailed
from app.extensions import db
from app.models import HumanTask, Payment, ProcessInstance
from app.services import staff_forms


def check_refund_limit(task: HumanTask, data: dict[str, Any], *, now: datetime) -> None:
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
