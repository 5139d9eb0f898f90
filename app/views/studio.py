"""The analyst studio: library, drafts, the modeler's file API, review and deploy."""
from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.errors import ValidationFailed
from app.runtime import get_runtime
from app.services import studio, studio_library
from app.services.uow import run_command
from app.views.access import role_required
from workflows.definitions import file_kind

bp = Blueprint("studio", __name__, url_prefix="/studio")
# bpmn-js and dmn-js style their SVG inline; scripts only from our own origin, never inline.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


def _actor() -> str:
    return str(current_user.username)


@bp.get("")
@role_required("analyst")
def index() -> str:
    """Show every process and decision table with its versions, and the drafts."""
    return render_template("studio/index.html", library=studio_library.library(), drafts=studio.list_drafts())


@bp.post("/drafts")
@role_required("analyst")
def create_draft() -> Response:
    """Start a draft from a deployed version."""
    base = request.form.get("base_version", type=int)
    now, name = get_runtime().clock.now(), request.form.get("name", "")
    draft = run_command(lambda: studio.create_draft(name, base_version=base, actor=_actor(), now=now))
    return redirect(url_for("studio.show_draft", draft_id=draft.id))


@bp.post("/import")
@role_required("analyst")
def import_file() -> Response:
    """Store an uploaded .bpmn/.dmn in a draft and open it; unsafe files are refused."""
    upload, now = request.files.get("file"), get_runtime().clock.now()
    if upload is None:
        raise ValidationFailed("choose a .bpmn or .dmn file to upload", fields={"file": "required"})
    with upload.stream:
        data, target = upload.stream.read(studio.MAX_UPLOAD + 1), request.form.get("draft_id", type=int)
    draft, problems = run_command(lambda: studio.import_file(upload.filename or "", data, draft_id=target,
                                                            actor=_actor(), now=now))
    flash(f"Imported {upload.filename}: {len(problems)} validation problem(s).")
    return redirect(url_for("studio.show_draft", draft_id=draft.id))


@bp.get("/drafts/<int:draft_id>")
@role_required("analyst")
def show_draft(draft_id: int) -> str:
    """Show a draft: its files, validation list, review state and actions."""
    draft = studio.get_draft(draft_id)
    return render_template("studio/draft.html", draft=draft, problems=studio.validate_draft(draft),
                           file_kind=file_kind)


@bp.get("/drafts/<int:draft_id>/edit")
@role_required("analyst")
def edit_file(draft_id: int) -> str:
    """Open one file of a draft in the BPMN modeler, the DMN editor or the form editor."""
    draft, path = studio.get_draft(draft_id), request.args.get("path", "")
    return render_template("studio/edit.html", draft=draft, path=path, kind=file_kind(path) or "form")


@bp.get("/drafts/<int:draft_id>/file")
@role_required("analyst")
def read_file(draft_id: int) -> Response:
    """Return one file of a draft as JSON ({path, content}) with the draft's problems."""
    draft, path = studio.get_draft(draft_id), request.args.get("path", "")
    return jsonify(path=path, content=studio.file_content(draft, path), forms=studio.form_keys(draft),
                   problems=[p.to_dict() for p in studio.validate_draft(draft)])


@bp.put("/drafts/<int:draft_id>/file")
@role_required("analyst")
def save_file(draft_id: int) -> Response:
    """Save one file (JSON {path, content}) and return the draft's validation problems."""
    body, now = request.get_json(silent=True) or {}, get_runtime().clock.now()
    path, content = str(body.get("path", "")), body.get("content")
    if not isinstance(content, str):
        raise ValidationFailed("send the file as JSON {\"path\": ..., \"content\": \"...\"}",
                               fields={"content": "required"})
    problems = run_command(lambda: studio.save_file(draft_id, path, content, actor=_actor(), now=now))
    return jsonify(saved=True, problems=[p.to_dict() for p in problems])


@bp.get("/catalog")
@role_required("analyst")
def catalog() -> Response:
    """Return the registered operators (with parameters) and the groups, for the side panel."""
    return jsonify(operators=studio_library.operator_catalog(), groups=studio_library.group_catalog())


def _transition(action: str, message: str):  # type: ignore[no-untyped-def]
    def view(draft_id: int) -> Response:
        now, step = get_runtime().clock.now(), getattr(studio, action)
        run_command(lambda: step(draft_id, actor=_actor(), now=now))
        flash(message)
        return redirect(url_for("studio.show_draft", draft_id=draft_id))
    view.__name__ = view.__qualname__ = action
    view.__doc__ = f"{action.replace('_', ' ').capitalize()} a draft."
    return role_required("analyst")(view)


for _action, _message in (("request_review", "Review requested: another analyst can now approve it."),
                          ("approve", "Approved: it can now be deployed."),
                          ("deploy", "Deployed as a new version; running instances stay on their version.")):
    bp.add_url_rule(f"/drafts/<int:draft_id>/{_action.replace('_', '-')}", view_func=_transition(_action, _message),
                    methods=["POST"])
