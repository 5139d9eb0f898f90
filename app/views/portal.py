"""Customer sign-in (password or one-time link) and the customer's orders."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.errors import NotAuthenticated
from app.extensions import limiter
from app.models.customer import Customer
from app.models.order import Order
from app.runtime import get_runtime
from app.services import customers, orders
from app.services.order_source import OrderSystemUnavailable, get_order_source
from app.services.uow import run_command
from app.views.customer_access import (current_customer, customer_required, limit, safe_next,
                                       security_headers, sign_in, sign_out)

bp = Blueprint("portal", __name__)
bp.after_request(security_headers)


LINK_SENT = _l("If the order number and phone/email match, a sign-in link is on its way; it works for 15 minutes.")


class PasswordForm(FlaskForm):
    login = StringField(_l("Phone or email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class LinkForm(FlaskForm):
    order_ref = StringField(_l("Order number"), validators=[DataRequired(), Length(max=80)])
    contact = StringField(_l("Phone or email on the order"), validators=[DataRequired(), Length(max=254)])


def _pages() -> str:
    return url_for("complaints.my_complaints")


@bp.get("/account/login")
def sign_in_page() -> str:
    """Show both ways to sign in."""
    return render_template("portal/sign_in.html", password_form=PasswordForm(), link_form=LinkForm())


@bp.post("/account/login")
@limiter.limit(limit("CUSTOMER_SIGNIN_LIMIT"))
def sign_in_with_password() -> str | Response | tuple[str, int]:
    """Sign in with phone/email and password."""
    form = PasswordForm()
    if form.validate_on_submit():
        customer = customers.authenticate(form.login.data or "", form.password.data or "")
        if customer is not None:
            sign_in(customer)
            return redirect(safe_next(request.args.get("next"), _pages()))
        flash(_("Wrong phone/email or password; check them and try again."), "error")
    return render_template("portal/sign_in.html", password_form=form, link_form=LinkForm()), 401


@bp.post("/account/link")
@limiter.limit(limit("CUSTOMER_SIGNIN_LIMIT"))
def request_link() -> str | Response | tuple[str, int]:
    """Send a one-time sign-in link to the order's phone or email."""
    form = LinkForm()
    if not form.validate_on_submit():
        return render_template("portal/sign_in.html", password_form=PasswordForm(), link_form=form), 422
    now = get_runtime().clock.now()
    run_command(lambda: customers.send_login_link(
        form.order_ref.data or "", form.contact.data or "", secret=current_app.config["SECRET_KEY"],
        link_url=lambda token: url_for("portal.use_link", token=token, _external=True), now=now))
    flash(str(LINK_SENT), "info")
    return redirect(url_for("portal.sign_in_page"))


@bp.get("/account/link/<token>")
@limiter.limit(limit("CUSTOMER_SIGNIN_LIMIT"))
def use_link(token: str) -> Response | tuple[str, int]:
    """Sign in with a one-time link (it works once, for 15 minutes)."""
    now = get_runtime().clock.now()
    try:
        customer = run_command(lambda: customers.use_login_link(token, secret=current_app.config["SECRET_KEY"],
                                                                now=now))
    except NotAuthenticated as refused:
        flash(refused.message, "error")
        return render_template("portal/sign_in.html", password_form=PasswordForm(), link_form=LinkForm()), 401
    sign_in(customer)
    return redirect(_pages())


@bp.post("/account/logout")
def sign_out_customer() -> Response:
    """Sign the customer out (POST with the CSRF token)."""
    sign_out()
    return redirect(url_for("portal.sign_in_page"))


@bp.get("/orders")
@customer_required
def my_orders() -> str | tuple[str, int]:
    """List the customer's orders (from the shop's order API when one is configured)."""
    own, down = own_orders(current_customer())  # type: ignore[arg-type]
    if down is not None:
        return shop_down(down, own)
    return render_template("portal/orders.html", orders=own)


@bp.get("/orders/<order_ref>")
@customer_required
def order_page(order_ref: str) -> str | tuple[str, int]:
    """Show one order: items, amount paid, payment method, already refunded; the "问题反馈" entry."""
    customer = current_customer()
    try:
        order = run_command(lambda: get_order_source().customer_order(customer, order_ref))  # type: ignore[arg-type]
    except OrderSystemUnavailable as down:
        return shop_down(down, orders.customer_orders(customer.id))  # type: ignore[union-attr]
    return render_template("portal/order.html", order=order, refunded=orders.amount_refunded(order))


def own_orders(customer: Customer) -> tuple[list[Order], OrderSystemUnavailable | None]:
    """Return the customer's orders from the order source; when the shop is down, the copies already made and why."""
    try:
        return run_command(lambda: get_order_source().customer_orders(customer)), None
    except OrderSystemUnavailable as down:
        return orders.customer_orders(customer.id), down


def shop_down(down: OrderSystemUnavailable, copies: list[Order]) -> tuple[str, int]:
    """Answer 503: the order system is down (nothing was written); list the orders already copied."""
    flash(down.message, "error")
    return render_template("portal/orders.html", orders=copies), down.status


@bp.app_context_processor
def customer_in_templates() -> dict[str, object]:
    """Let templates ask for the signed-in customer."""
    return {"current_customer": current_customer}
