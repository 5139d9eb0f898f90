"""Smart alerts for supervisors: the list, one alert with what is behind it, acknowledging."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.models.alert import AlertKind
from app.runtime import get_runtime
from app.services import alerts
from app.services.uow import run_command
from app.views.access import role_required
from app.views.customer_access import safe_next

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
STATES = {"open": "未解除 Open", "unacknowledged": "未确认 Unacknowledged", "all": "全部 All"}


@bp.get("")
@role_required("supervisor")
def index() -> str:
    """List alerts: open ones by default; filter by state and kind."""
    state = request.args.get("state") if request.args.get("state") in STATES else "open"
    kind = request.args.get("kind") if request.args.get("kind") in {k.value for k in AlertKind} else None
    return render_template("alerts/index.html", alerts=alerts.list_alerts(state=state, kind=kind), state=state,
                           kind=kind, states=STATES, kinds=alerts.KIND_NAMES)


@bp.get("/panel")
@role_required("supervisor")
def panel() -> str:
    """The dashboard's alert panel (loaded by htmx, refreshed every minute)."""
    return render_template("alerts/_panel.html", alerts=alerts.list_alerts(state="open", limit=10),
                           counts=alerts.open_counts(), kinds=alerts.KIND_NAMES)


@bp.get("/<int:alert_id>")
@role_required("supervisor")
def show(alert_id: int) -> str:
    """One alert with its evidence and links to the complaints, tasks and refunds behind it."""
    alert = alerts.get_alert(alert_id)
    return render_template("alerts/show.html", alert=alert, subjects=alerts.alert_subjects(alert),
                           kinds=alerts.KIND_NAMES)


@bp.post("/<int:alert_id>/acknowledge")
@role_required("supervisor")
def acknowledge(alert_id: int) -> Response:
    """Record that the signed-in supervisor has taken the alert on."""
    now = get_runtime().clock.now()
    run_command(lambda: alerts.acknowledge(alert_id, actor=current_user.username, now=now))
    flash("已确认 Acknowledged: you are on it.")
    return redirect(safe_next(request.form.get("next"), url_for("alerts.show", alert_id=alert_id)))
