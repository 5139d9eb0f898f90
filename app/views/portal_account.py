"""The signed-in customer's own things besides orders and complaints: messages and signed-in devices.

``/messages`` lists what Kesu wrote to the customer (SMS, email, app push, portal), rendered in
the customer's language, the same rows and text as ``GET /api/v1/customer/messages``.
``/account/devices`` lists the app tokens that still open the API (each a phone or tablet
signed in through the app) and revokes one (a POST with the CSRF token).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.models.customer import Customer
from app.runtime import get_runtime
from app.services import customer_app, outbox
from app.services.uow import run_command
from app.views.customer_access import current_customer, customer_required, security_headers
from app.views.language import current_language

bp = Blueprint("portal_account", __name__)
bp.after_request(security_headers)
PER_PAGE = 20
CHANNELS = {"sms": _l("SMS"), "email": _l("Email"), "push": _l("App notification"), "portal": _l("Message")}


def _me() -> Customer:
    customer = current_customer()
    assert customer is not None  # customer_required let the request in
    return customer


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 10_000 else 1


@bp.get("/messages")
@customer_required
def my_messages() -> str:
    """List the messages sent to the signed-in customer, newest first, in their language."""
    page = _page_number()
    language = "en" if current_language() == "en" else "zh"
    shown, total = outbox.customer_inbox(_me().id, current_app.jinja_env, language=language, limit=PER_PAGE,
                                         offset=(page - 1) * PER_PAGE)
    return render_template("portal/messages.html", messages=shown, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), channels=CHANNELS)


@bp.get("/account/devices")
@customer_required
def my_devices() -> str:
    """List the devices signed in through the app (its tokens), each with a button that signs it out."""
    return render_template("portal/devices.html", tokens=customer_app.active_tokens(_me().id), form=FlaskForm())


@bp.post("/account/devices/<int:token_id>/revoke")
@customer_required
def revoke_device(token_id: int) -> Response:
    """Revoke one of the customer's app tokens; another customer's token is a 404."""
    if not FlaskForm().validate_on_submit():
        flash(_("The form expired; send it again."), "error")
        return redirect(url_for("portal_account.my_devices"))
    customer, now = _me(), get_runtime().clock.now()
    token = run_command(lambda: customer_app.revoke_token_of(customer.id, token_id, now=now))
    flash(_("%(device)s is signed out; the app there must sign in again.", device=token.name), "info")
    return redirect(url_for("portal_account.my_devices"))
