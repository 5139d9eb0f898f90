"""Any signed-in member of staff changes their own password (current one, then the new one twice)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors import ValidationFailed
from app.models import ROLES
from app.runtime import get_runtime
from app.services import staff_accounts
from app.services.uow import run_command
from app.views.access import role_required

bp = Blueprint("staff_password", __name__, url_prefix="/staff")


@bp.route("/password", methods=["GET", "POST"])
@role_required(*ROLES)
def change_password() -> Any:
    """Show the form; change the password, keeping this session and ending every other one."""
    if request.method == "GET":
        return render_template("staff/password.html", error=None,
                               min_length=staff_accounts.MIN_PASSWORD_LENGTH)
    form, now, user = request.form, get_runtime().clock.now(), current_user._get_current_object()
    try:
        run_command(lambda: staff_accounts.change_own_password(
            user, current=form.get("current", ""), new=form.get("new", ""), repeated=form.get("repeated", ""),
            now=now))
    except ValidationFailed as error:
        return render_template("staff/password.html", error=error,
                               min_length=staff_accounts.MIN_PASSWORD_LENGTH), 422
    session[staff_accounts.SESSION_KEY] = staff_accounts.session_fingerprint(user)   # this session goes on
    flash(_("Your password is changed; other sessions signed in as you are signed out."))
    return redirect(url_for("staff_password.change_password"))
