"""The dashboard (charts drawn client-side from /dashboard/data) and the weekly review."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask_login import current_user

from app.classification.taxonomy import CATEGORIES
from app.errors import ValidationFailed
from app.models.workspace import GROUPS
from app.runtime import get_runtime
from app.services import dashboard, weekly_review
from app.services.complaint_facts import shop_day
from app.views.access import role_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
COMPLAINT_ROLES = ("supervisor", "analyst")
DASHBOARD_ROLES = (*COMPLAINT_ROLES, "finance")  # finance sees the refund panel only


def _sees_complaints() -> bool:
    return any(current_user.has_role(role) for role in COMPLAINT_ROLES)


@bp.get("")
@role_required(*DASHBOARD_ROLES)
def index() -> str:
    """Show the filter form and the chart frames; dashboard.js fills them from /dashboard/data."""
    today = shop_day(get_runtime().clock.now())
    return render_template("dashboard/index.html", args=request.args, today=today, categories=CATEGORIES,
                           families=dashboard.FAMILY_LABELS, groups=GROUPS, channels=dashboard.CHANNELS,
                           sees_complaints=_sees_complaints())


@bp.get("/data")
@role_required(*DASHBOARD_ROLES)
def data() -> tuple[Response, int] | Response:
    """Return every chart's figures for the filter in the query string (422 with a message if it is wrong)."""
    now = get_runtime().clock.now()
    try:
        chosen = dashboard.parse_filter(request.args.to_dict(), today=shop_day(now))
        return jsonify(dashboard.dashboard_data(chosen, granularity=request.args.get("granularity") or "day",
                                                include_complaints=_sees_complaints(), now=now))
    except ValidationFailed as error:
        return jsonify(error.to_problem()), error.status


@bp.get("/weekly")
@role_required(*COMPLAINT_ROLES)
def weekly() -> str:
    """Show the weekly review of one ISO week (?week=2026-W47; default the last full week)."""
    now = get_runtime().clock.now()
    week = weekly_review.parse_week(request.args.get("week"), today=shop_day(now))
    return render_template("dashboard/weekly.html", review=weekly_review.build_review(week, now=now))


@bp.get("/weekly.<fmt>")
@role_required(*COMPLAINT_ROLES)
def weekly_download(fmt: str) -> Response:
    """Download the weekly review as Markdown (weekly.md) or CSV (weekly.csv)."""
    now = get_runtime().clock.now()
    week = weekly_review.parse_week(request.args.get("week"), today=shop_day(now))
    body, mimetype = weekly_review.render_file(weekly_review.build_review(week, now=now), fmt)
    return Response(body, content_type=mimetype, headers={  # it names its charset already
        "Content-Disposition": f'attachment; filename="weekly-review-{week.label}.{fmt}"'})
