"""Administration of staff: roles, groups, active accounts and out-of-office substitutes."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.errors import ValidationFailed
from app.models import GROUPS, ROLES
from app.runtime import get_runtime
from app.services import staff
from app.services.uow import run_command
from app.views.access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required("admin")
def users() -> str:
    """List staff with their roles and groups, and the current substitutes."""
    now = get_runtime().clock.now()
    return render_template("admin/users.html", users=staff.list_staff(), roles=ROLES, groups=GROUPS,
                           substitutions=staff.current_substitutions(now=now))


@bp.post("/users/<username>")
@role_required("admin")
def update_user(username: str) -> Response:
    """Save one staff member's roles, groups and active flag."""
    form = request.form
    run_command(lambda: staff.update_staff(username, roles=form.getlist("roles"), groups=form.getlist("groups"),
                                           is_active=form.get("active") == "on"))
    flash(f"Saved {username}; their task lists follow at once.")
    return redirect(url_for("admin.users"))


@bp.post("/substitutions")
@role_required("admin", "supervisor")
def add_substitution() -> Response:
    """Let a substitute work an absent person's tasks for a time window."""
    form, now = request.form, get_runtime().clock.now()
    starts, ends = _moment(form.get("starts_at", ""), "starts_at"), _moment(form.get("ends_at", ""), "ends_at")
    run_command(lambda: staff.add_substitution(form.get("absent", ""), form.get("substitute", ""),
                                               starts_at=starts, ends_at=ends, actor=current_user.username, now=now))
    flash("Substitute added.")
    return redirect(url_for("admin.users"))


def _moment(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("the substitute was not added",
                               fields={field: "give a date and time like 2026-12-01T09:00"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
