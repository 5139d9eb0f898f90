"""Staff sign-in and sign-out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import limiter
from app.services.accounts import authenticate
from app.views.customer_access import limit

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("密码 Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Follow ?next= only within this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limit("STAFF_SIGNIN_LIMIT"), methods=["POST"], deduct_when=lambda response: response.status_code == 401)
def login() -> str | Response:
    """Show the sign-in form; sign in with a username and password (wrong ones are rate-limited per address)."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("用户名或密码错误 Wrong username or password. Check both and try again.", "error")
        return render_template("login.html", form=form), 401  # type: ignore[return-value]
    return render_template("login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out (a POST with the CSRF token, so no link can sign someone out)."""
    logout_user()
    return redirect(url_for("auth.login"))
