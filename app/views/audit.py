"""/audit: the auditor's read-only console (search, history, verify, replay, export)."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.errors import ValidationFailed
from app.models import InstanceStatus
from app.services import audit_console, audit_diagram
from app.views.access import role_required
from app.views.language import translated_page

bp = Blueprint("audit", __name__, url_prefix="/audit")
FORMATS = {"json": ("application/json", audit_console.export_json),
           "csv": ("text/csv", audit_console.export_csv)}  # Werkzeug adds "; charset=utf-8" to text types


@bp.app_template_filter("audit_json")
def audit_json(value: Any) -> str:
    """JSON for reading: Chinese kept as is (autoescaping still applies)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@bp.context_processor
def _labels() -> dict[str, object]:
    """Instance statuses in the request's language, and the page's language (with the switcher in the header)."""
    return {"instance_status_labels": audit_console.INSTANCE_STATUS_LABELS, **translated_page()}


def _unmasked() -> bool:
    """Whether the user holds one of AUDIT_UNMASKED_ROLES (literally: admin sees masks unless listed)."""
    allowed = set(current_app.config.get("AUDIT_UNMASKED_ROLES") or ())
    return bool(allowed & set(current_user.roles or ()))


def _download(records: list[dict[str, Any]], fmt: str, name: str) -> Response:
    if fmt not in FORMATS:
        raise ValidationFailed(_("unknown export format '%(format)s'", format=fmt),
                               fields={"format": _("json or csv")})
    mimetype, render = FORMATS[fmt]
    return Response(render(records), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@bp.get("")
@role_required("auditor")
def index() -> str:
    """Search instances by complaint, order, customer, status, version and dates."""
    filters = audit_console.AuditFilter.from_args(request.args)
    found = audit_console.search(filters) if filters.query_args() else None
    more = found is not None and len(found) > audit_console.PAGE_SIZE
    return render_template("audit/index.html", filters=filters, statuses=[s.value for s in InstanceStatus],
                           instances=found[:audit_console.PAGE_SIZE] if found is not None else None, more=more,
                           page_size=audit_console.PAGE_SIZE, export_limit=audit_console.EXPORT_LIMIT)


@bp.get("/export.<fmt>")
@role_required("auditor")
def export_search(fmt: str) -> Response:
    """Export every instance of a search, with its history and verification."""
    filters = audit_console.AuditFilter.from_args(request.args)
    found = audit_console.search(filters, limit=audit_console.EXPORT_LIMIT)
    if len(found) > audit_console.EXPORT_LIMIT:
        raise ValidationFailed(_("More than %(limit)d instances match; narrow the search (e.g. by dates) and "
                                 "export each part", limit=audit_console.EXPORT_LIMIT))
    records = [audit_console.instance_record(i.id, unmasked=_unmasked()) for i in found]
    return _download(records, fmt, "kesu-audit-search")


@bp.get("/instances/<int:instance_id>")
@role_required("auditor")
def show(instance_id: int) -> str:
    """One instance's history; ?check=verify|replay runs a check, ?print=1 gives the printable page."""
    check = request.args.get("check", "")
    result = audit_console.run_check(instance_id, check) if check else None
    record = audit_console.instance_record(instance_id, unmasked=_unmasked(), checks=False)
    return render_template("audit/show.html", record=record, check=check, result=result,
                           printable=request.args.get("print") == "1")


@bp.get("/instances/<int:instance_id>/export.<fmt>")
@role_required("auditor")
def export_instance(instance_id: int, fmt: str) -> Response:
    """Export one instance's history with its verification."""
    return _download([audit_console.instance_record(instance_id, unmasked=_unmasked())], fmt,
                     f"kesu-instance-{instance_id}")


@bp.get("/instances/<int:instance_id>/diagram")
@role_required("auditor")
def diagram(instance_id: int) -> Response:
    """The pinned diagram with a slider through the history (bpmn-js, scripts in static/js)."""
    record = audit_console.instance_record(instance_id, unmasked=_unmasked(), checks=False)
    return Response(render_template("audit/diagram.html", record=record))  # the app-wide STAFF_CSP


@bp.get("/instances/<int:instance_id>/diagram.bpmn")
@role_required("auditor")
def diagram_file(instance_id: int) -> Response:
    """The instance's pinned BPMN file that defines its process."""
    _path, xml = audit_diagram.diagram_xml(instance_id)
    return Response(xml, mimetype="application/xml")


@bp.get("/instances/<int:instance_id>/steps.json")
@role_required("auditor")
def diagram_steps(instance_id: int) -> Response:
    """Every event with its step: the path completed, the open tokens and the data at that step."""
    return jsonify({"instance_id": instance_id,
                    "steps": audit_diagram.steps(instance_id, unmasked=_unmasked())})
