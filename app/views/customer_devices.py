"""`/admin/customers`: supervisors (and admins) find a customer and sign their app out on one or every device.

For a phone reported lost or stolen: the customer is found by phone number, email or customer number,
their signed-in devices (app tokens) are listed, and each can be signed out, or all at once. Forms carry
the CSRF token (a POST without it is a 400); every revocation is audited (``customer_devices``). Texts
go through the catalogue (English msgids, zh_CN), in the request's language (switcher in the header).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.errors import NotFound, ValidationFailed
from app.runtime import get_runtime
from app.services import customer_devices
from app.services.uow import run_command
from app.views.access import role_required
from app.views.language import translated_page

bp = Blueprint("customer_devices", __name__, url_prefix="/admin/customers")
bp.context_processor(translated_page)   # <html lang> and the language switcher in the header
ROLES = ("supervisor",)   # admins hold every role


@bp.get("")
@role_required(*ROLES)
def index() -> str | Response | tuple[str, int]:
    """Search a customer by phone number, email or customer number; one found opens their devices."""
    query = request.args.get("q")
    if query is None:
        return render_template("admin/customer_search.html", query="", error=None)
    try:
        customer = run_command(lambda: customer_devices.find_customer(query))
    except (NotFound, ValidationFailed) as error:
        return render_template("admin/customer_search.html", query=query, error=error.message), error.status
    return redirect(url_for("customer_devices.devices", customer_id=customer.id))


@bp.get("/<int:customer_id>/devices")
@role_required(*ROLES)
def devices(customer_id: int) -> str:
    """The customer and the devices signed in through their app, each with a sign-out button."""
    customer, tokens = customer_devices.devices(customer_id)
    return render_template("admin/customer_devices.html", customer=customer, tokens=tokens)


@bp.post("/<int:customer_id>/devices/<int:token_id>/revoke")
@role_required(*ROLES)
def revoke(customer_id: int, token_id: int) -> Response:
    """Sign one device out (audited; the customer gets a portal message)."""
    now = get_runtime().clock.now()
    token = run_command(lambda: customer_devices.revoke(customer_id, token_id, actor=current_user.username, now=now))
    flash(_("%(device)s is signed out; its app token no longer works.", device=token.name))
    return redirect(url_for("customer_devices.devices", customer_id=customer_id))


@bp.post("/<int:customer_id>/devices/revoke-all")
@role_required(*ROLES)
def revoke_all(customer_id: int) -> Response:
    """Sign every device of the customer out."""
    now = get_runtime().clock.now()
    tokens = run_command(lambda: customer_devices.revoke_all(customer_id, actor=current_user.username, now=now))
    flash(_("Devices signed out: %(num)d.", num=len(tokens)) if tokens
          else _("No device was signed in; nothing changed."))
    return redirect(url_for("customer_devices.devices", customer_id=customer_id))
