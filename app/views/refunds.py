"""The refunds console for finance: list and filter, one refund's history, query again, mark paid."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.models.payment import PROVIDERS
from app.payments.states import RefundState
from app.runtime import get_runtime
from app.services import refund_console
from app.services.uow import run_command
from app.views.access import role_required

bp = Blueprint("refunds", __name__, url_prefix="/refunds")


@bp.get("")
@role_required("finance")
def index() -> str:
    """List refunds, newest first, a page at a time, filtered by state, provider and age."""
    filters = refund_console.RefundFilter.from_args(request.args)
    page = refund_console.list_refunds(filters, now=get_runtime().clock.now())
    return render_template("refunds/index.html", refunds=page.rows, page=page, filters=filters, providers=PROVIDERS,
                           states=[s.value for s in RefundState], alerts=refund_console.open_alerts())


@bp.get("/<int:refund_id>")
@role_required("finance")
def show(refund_id: int) -> str:
    """Show one refund with its whole history and its alerts."""
    return render_template("refunds/show.html", **refund_console.refund_details(refund_id))


@bp.post("/<int:refund_id>/query")
@role_required("finance")
def query_again(refund_id: int) -> Response:
    """Queue a query of the refund at its gateway."""
    now = get_runtime().clock.now()
    run_command(lambda: refund_console.query_again(refund_id, actor=current_user.username, now=now))
    flash("已发起查询，稍后在记录中显示支付网关的答复 A query was queued; the history shows the gateway's answer shortly.")
    return redirect(url_for("refunds.show", refund_id=refund_id))


@bp.post("/<int:refund_id>/mark-paid")
@role_required("finance")
def mark_paid(refund_id: int) -> Response:
    """Record that a failed refund was paid outside the gateway, with the reason."""
    now, reason = get_runtime().clock.now(), request.form.get("reason", "")
    run_command(lambda: refund_console.mark_paid(refund_id, reason=reason, actor=current_user.username, now=now))
    flash("已手动标记为已付款，操作已记入审计日志 Marked as paid manually; the action is in the audit log.")
    return redirect(url_for("refunds.show", refund_id=refund_id))
