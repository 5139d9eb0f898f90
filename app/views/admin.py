"""Administration of staff: roles, groups, active accounts and out-of-office substitutes."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.errors import ValidationFailed
from app.models import GROUPS, ROLES
from app.runtime import get_runtime
from app.services import staff
from app.services.shop_time import from_shop_input
from app.services.uow import run_command
from app.views.access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required("admin")
def users() -> str:
    """List staff with their roles and groups, and the current substitutes."""
    now = get_runtime().clock.now()
    return render_template("admin/users.html", users=staff.list_staff(), roles=ROLES, groups=GROUPS,
                           substitutions=staff.current_substitutions(now=now), now=now)


@bp.post("/users/<username>")
@role_required("admin")
def update_user(username: str) -> Response:
    """Save one staff member's roles, groups and active flag."""
    form, now = request.form, get_runtime().clock.now()
    _, released = run_command(lambda: staff.update_staff(
        username, roles=form.getlist("roles"), groups=form.getlist("groups"), is_active=form.get("active") == "on",
        actor=current_user.username, now=now))
    flash(f"Saved {username}; their task lists follow at once"
          + (f"; {released} task(s) they held went back to their group's queue." if released else "."))
    return redirect(url_for("admin.users"))


def parse_moment(text: str, field: str) -> datetime:
    """Read a datetime-local form value on the shop's wall clock as UTC, or refuse it naming the field."""
    try:
        return from_shop_input(text)
    except ValueError:
        raise ValidationFailed("the substitute was not added",
                               fields={field: "give a date and time like 2026-12-01T09:00"}) from None
