"""Administration of staff: new accounts, password resets, roles, groups, active flags and substitutes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.errors import ValidationFailed
from app.models import GROUPS, ROLES
from app.runtime import get_runtime
from app.services import staff, staff_accounts
from app.services.shop_time import from_shop_input
from app.services.uow import run_command
from app.views.access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required("admin")
def users() -> Any:
    """List staff with their roles and groups, and the current substitutes."""
    return _users_page()


def _users_page(status: int = 200, **extra: Any) -> Any:
    """The staff page; a page that shows a new password is never cached."""
    now = get_runtime().clock.now()
    extra.setdefault("new_staff", {"roles": [], "groups": []})
    page = render_template("admin/users.html", users=staff.list_staff(), roles=ROLES, groups=GROUPS,
                           substitutions=staff.current_substitutions(now=now), now=now, **extra)
    return page, status, {"Cache-Control": "no-store"} if "shown_password" in extra else {}


@bp.post("/users")
@role_required("admin")
def create_user() -> Any:
    """Create a staff account with a generated password, shown to the admin on this answer only."""
    form, now = request.form, get_runtime().clock.now()
    values = {"username": form.get("username", ""), "display_name": form.get("display_name", ""),
              "roles": form.getlist("roles"), "groups": form.getlist("groups")}
    try:
        user, password = run_command(lambda: staff_accounts.create_staff(
            values["username"], display_name=values["display_name"], roles=values["roles"],
            groups=values["groups"], actor=current_user.username, now=now))
    except ValidationFailed as error:
        return _users_page(422, new_staff=values, create_error=error)
    except IntegrityError:   # the same name created at the same moment
        error = ValidationFailed(_("No staff account was created; correct the fields below."), fields={
            "username": _("%(username)s is taken; choose another", username=values["username"].strip())})
        return _users_page(422, new_staff=values, create_error=error)
    return _users_page(201, shown_password={
        "username": user.username, "password": password,
        "message": _("%(username)s was created. Give them this password; it is shown only now.",
                     username=user.username)})


@bp.post("/users/<username>/password")
@role_required("admin")
def reset_password(username: str) -> Any:
    """Give a staff member a new generated password (shown once), signing them out and revoking their API tokens."""
    now = get_runtime().clock.now()
    user, password, revoked = run_command(lambda: staff_accounts.reset_password(
        username, actor=current_user.username, now=now))
    return _users_page(shown_password={
        "username": user.username, "password": password,
        "message": _("%(username)s has a new password; it is shown only now. They are signed out everywhere "
                     "and %(num)d API token(s) of theirs no longer work.", username=user.username, num=revoked)})


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
