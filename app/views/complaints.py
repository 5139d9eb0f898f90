"""The customer's complaints: the form, the list, the progress page, photos, confirming the resolution,
answering the agent's question."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.classification.taxonomy import CATEGORIES
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db, limiter
from app.models.complaint import Complaint
from app.runtime import get_runtime
from app.services import complaints
from app.services.complaint_timeline import progress
from app.services.complaints import MAX_FORM_BYTES, DuplicateComplaint, Submission
from app.services.order_source import OrderSystemUnavailable
from app.services.uploads import upload_folder
from app.services.uow import run_command
from app.views.customer_access import current_customer, customer_required, limit, security_headers
from app.views.language import current_language
from app.views.portal import own_orders

bp = Blueprint("complaints", __name__)
bp.after_request(security_headers)
SHORTCUTS = {_l("Out of stock"): "order.out_of_stock", _l("Delivery problem"): "delivery.late"}


def _families() -> list[tuple[str, str]]:
    """Return the taxonomy's first level as (code, label in the request's language)."""
    english = current_language() == "en"
    seen: dict[str, str] = {}
    for category in CATEGORIES:
        seen.setdefault(category.code.split(".")[0], category.level1_en if english else category.level1_zh)
    return list(seen.items())


def _render_form(form: FlaskForm, values: dict[str, str], errors: dict[str, str], status: int = 200
                 ) -> tuple[str, int]:
    own, down = own_orders(current_customer())  # type: ignore[arg-type]
    if down is not None:
        if "order_ref" not in errors:   # not already said by a refused submit
            flash(down.message, "error")
        status = down.status if status == 200 else status
    return render_template("portal/complaint_form.html", form=form, orders=own, values=values, errors=errors,
                           families=_families(), categories=CATEGORIES, shortcuts=SHORTCUTS,
                           max_text=complaints.MAX_TEXT), status


@bp.get("/complaints")
@customer_required
def my_complaints() -> str:
    """List the customer's complaints with their status."""
    mine = complaints.customer_complaints(current_customer().id)  # type: ignore[union-attr]
    return render_template("portal/complaints.html", complaints=[(c, progress(c).status) for c in mine])


@bp.get("/complaints/new")
@customer_required
def new_complaint() -> tuple[str, int]:
    """Show the complaint form (order and category pre-filled from ?order= and ?category=)."""
    values = {"order_ref": request.args.get("order", ""), "category": request.args.get("category", "")}
    return _render_form(FlaskForm(), values, {})


@bp.post("/complaints/new")
@customer_required
@limiter.limit(limit("CUSTOMER_SUBMIT_LIMIT"))
def submit_complaint() -> Response | tuple[str, int]:
    """Submit the form: one complaint, its photos and its process; or the form again with messages."""
    request.max_content_length = MAX_FORM_BYTES
    form = FlaskForm()
    values = {k: request.form.get(k, "") for k in ("order_ref", "category", "description", "contact")}
    if not form.validate_on_submit():
        return _render_form(form, values, {"form": _("The form expired; send it again.")}, 400)
    submission = Submission(order_ref=values["order_ref"], category=values["category"],
                            description=values["description"], contact=values["contact"].strip() or None,
                            images=[f.read() for f in request.files.getlist("images") if f.filename], channel="web",
                            language=current_language())
    customer, now = current_customer(), get_runtime().clock.now()
    try:
        complaint, _created = run_command(lambda: complaints.submit(customer, submission,  # type: ignore[arg-type]
                                                                    upload_dir=upload_folder(), now=now))
    except ValidationFailed as refused:
        return _render_form(form, values, refused.fields, 422)
    except OrderSystemUnavailable as down:
        return _render_form(form, values, {"order_ref": down.message}, down.status)
    except DuplicateComplaint as duplicate:
        flash(_("A complaint about this order and problem is already open; follow its progress here."), "info")
        return redirect(url_for("complaints.complaint_page", complaint_id=duplicate.details["complaint_id"]))
    return redirect(url_for("complaints.complaint_page", complaint_id=complaint.id))


@bp.get("/complaints/<int:complaint_id>")
@customer_required
def complaint_page(complaint_id: int) -> str:
    """Show a complaint's progress: status, SLA promise, timeline, refunds, compensation, confirmation."""
    complaint = complaints.customer_complaint(current_customer().id, complaint_id)  # type: ignore[union-attr]
    return _render_progress(complaint, FlaskForm())[0]


def _render_progress(complaint: Complaint, form: FlaskForm, answer: str = "", errors: dict[str, str] | None = None,
                     status: int = 200) -> tuple[str, int]:
    """The progress page; with a refused answer to the question, that answer and its messages."""
    return render_template("portal/complaint.html", complaint=complaint, progress=progress(complaint),
                           confirm_task=complaints.open_customer_task(complaint),
                           question=complaints.pending_question(complaint), answer=answer, errors=errors or {},
                           max_answer=complaints.MAX_TEXT, max_images=complaints.MAX_IMAGES, form=form), status


@bp.post("/complaints/<int:complaint_id>/information")
@customer_required
def provide_information(complaint_id: int) -> Response | tuple[str, int]:
    """Answer the agent's question (request_info): text and up to 3 photos; the case goes back to the agent."""
    request.max_content_length = MAX_FORM_BYTES
    customer = current_customer()
    complaint = complaints.customer_complaint(customer.id, complaint_id)  # type: ignore[union-attr]
    form, answer = FlaskForm(), request.form.get("additional_info", "")
    if not form.validate_on_submit():
        return _render_progress(complaint, form, answer, {"form": _("The form expired; send it again.")}, 400)
    images = [f.read() for f in request.files.getlist("images") if f.filename]
    now = get_runtime().clock.now()
    try:
        run_command(lambda: complaints.answer_question(customer, complaint_id, answer, images,  # type: ignore[arg-type]
                                                       upload_dir=upload_folder(), now=now))
    except ValidationFailed as refused:
        return _render_progress(complaint, form, answer, refused.fields or {"form": refused.message}, 422)
    except Conflict as closed:   # answered already, or the 72 hours ran out
        return _render_progress(complaint, form, "", {"form": closed.message}, 409)
    flash(_("Thank you, your answer was sent; we are handling your complaint again."), "info")
    return redirect(url_for("complaints.complaint_page", complaint_id=complaint_id))


@bp.post("/complaints/<int:complaint_id>/confirm")
@customer_required
def confirm(complaint_id: int) -> Response:
    """Answer the 72-hour confirmation: solved (with a 1-5 rating) or not (with a comment)."""
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("The form expired; send it again."), "error")
        return redirect(url_for("complaints.complaint_page", complaint_id=complaint_id))
    answer = _confirmation(request.form)
    customer, now = current_customer(), get_runtime().clock.now()
    try:
        run_command(lambda: complaints.confirm_resolution(customer, complaint_id, answer, now=now))  # type: ignore[arg-type]
    except ValidationFailed as refused:   # each message names its field, in the customer's language
        for message in refused.fields.values() or [refused.message]:
            flash(message, "error")
    return redirect(url_for("complaints.complaint_page", complaint_id=complaint_id))


def _confirmation(form: MultiDict[str, str]) -> dict[str, object]:
    """Turn the confirmation form into the confirm_resolution task data."""
    answer: dict[str, object] = {}
    if "satisfied" in form:   # no answer or another word is refused by the form, never taken as "not solved"
        answer["satisfied"] = {"yes": True, "no": False}.get(form["satisfied"], form["satisfied"])
    if form.get("csat", "").isdigit():
        answer["csat"] = int(form["csat"])
    if form.get("customer_comment", "").strip():
        answer["customer_comment"] = form["customer_comment"].strip()
    return answer


@bp.get("/complaints/<int:complaint_id>/photos/<int:attachment_id>")
def photo(complaint_id: int, attachment_id: int) -> Response:
    """Serve a complaint photo to its owner or to staff; to anyone else it does not exist."""
    complaint = db.session.get(Complaint, complaint_id)
    customer = current_customer()
    is_owner = complaint is not None and customer is not None and complaint.customer_id == customer.id
    if complaint is None or not (is_owner or current_user.is_authenticated):
        raise NotFound(_("there is no photo %(id)s you may see", id=attachment_id))
    attachment = complaints.attachment_for(complaint, attachment_id)
    # Photos are at most 5 MiB: read whole, so no file handle outlives the request.
    response = Response((upload_folder() / attachment.stored_name).read_bytes(), mimetype=attachment.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
