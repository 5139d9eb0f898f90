"""The analyst studio: library, drafts, the modeler's file API, review and deploy."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api.registry import PayloadTooLarge
from app.errors import ValidationFailed
from app.runtime import get_runtime
from app.services import audit_console, studio, studio_diff, studio_library, studio_migration, studio_trial
from app.services.uow import run_command
from app.views.access import role_required
from app.views.language import translated_page
from workflows.definitions import file_kind

bp = Blueprint("studio", __name__, url_prefix="/studio")
# Security headers: the app-wide STAFF_CSP (access.py) allows what bpmn-js and dmn-js need
# (inline SVG styles) and scripts only from our own origin, never inline.


@bp.before_request
def _limit_body() -> None:
    """Refuse a body larger than one diagram (JSON-escaped, at most twice its size) before reading it."""
    diagram = current_app.config["MAX_DIAGRAM_BYTES"]
    request.max_content_length = 2 * diagram + 64 * 1024  # also caps bodies sent without a length
    if (request.content_length or 0) > request.max_content_length:
        raise PayloadTooLarge(_("the upload is larger than the studio accepts (%(limit)s bytes per diagram); split "
                                "the diagram or remove embedded images, then upload it again", limit=f"{diagram:,}"))


@bp.context_processor
def _labels() -> dict[str, object]:
    """The words for draft and instance statuses, and the page's language (with the switcher in the header)."""
    return {"draft_status_labels": studio.DRAFT_STATUS_LABELS,
            "instance_status_labels": audit_console.INSTANCE_STATUS_LABELS, **translated_page()}


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
        raise ValidationFailed(_("choose a .bpmn or .dmn file to upload"), fields={"file": _("required")})
    with upload.stream:
        data, target = upload.stream.read(studio.MAX_UPLOAD + 1), request.form.get("draft_id", type=int)
    draft, problems = run_command(lambda: studio.import_file(upload.filename or "", data, draft_id=target,
                                                            actor=_actor(), now=now))
    flash(_("Imported %(file)s: %(count)d validation problem(s).", file=upload.filename, count=len(problems)))
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
        raise ValidationFailed(_("send the file as JSON {\"path\": ..., \"content\": \"...\"}"),
                               fields={"content": _("required")})
    problems = run_command(lambda: studio.save_file(draft_id, path, content, actor=_actor(), now=now))
    return jsonify(saved=True, problems=[p.to_dict() for p in problems])


@bp.post("/drafts/<int:draft_id>/forms")
@role_required("analyst")
def new_form(draft_id: int) -> Response:
    """Add a new JSON Schema form to the draft and open it in the form editor."""
    name, now = request.form.get("name", ""), get_runtime().clock.now()
    path = run_command(lambda: studio.new_form(draft_id, name, actor=_actor(), now=now))
    return redirect(url_for("studio.edit_file", draft_id=draft_id, path=path))


@bp.post("/drafts/<int:draft_id>/files/delete")
@role_required("analyst")
def delete_file(draft_id: int) -> Response:
    """Remove one file (e.g. a diagram imported by mistake) from a draft."""
    path, now = request.form.get("path", ""), get_runtime().clock.now()
    run_command(lambda: studio.delete_file(draft_id, path, actor=_actor(), now=now))
    flash(_("Removed %(path)s from the draft.", path=path))
    return redirect(url_for("studio.show_draft", draft_id=draft_id))


@bp.get("/catalog")
@role_required("analyst")
def catalog() -> Response:
    """Return the registered operators (with parameters) and the groups, for the side panel."""
    return jsonify(operators=studio_library.operator_catalog(), groups=studio_library.group_catalog())


def _transition(action: str, message: object):  # type: ignore[no-untyped-def]
    def view(draft_id: int) -> Response:
        now, step = get_runtime().clock.now(), getattr(studio, action)
        run_command(lambda: step(draft_id, actor=_actor(), now=now))
        flash(str(message))  # a lazy string: translated in this request's language
        return redirect(url_for("studio.show_draft", draft_id=draft_id))
    view.__name__ = view.__qualname__ = action
    view.__doc__ = f"{action.replace('_', ' ').capitalize()} a draft."
    return role_required("analyst")(view)


for _action, _message in (("request_review", _l("Review requested: another analyst can now approve it.")),
                          ("approve", _l("Approved: it can now be deployed.")),
                          ("deploy", _l("Deployed as a new version; running instances stay on their version "
                                        "(the migration check below lists which could move to it)."))):
    bp.add_url_rule(f"/drafts/<int:draft_id>/{_action.replace('_', '-')}", view_func=_transition(_action, _message),
                    methods=["POST"])


@bp.get("/drafts/<int:draft_id>/test-run")
@role_required("analyst")
def test_run_setup(draft_id: int) -> Response:
    """Return what a test run of the draft can be given: processes, service tasks, user tasks, timers."""
    return jsonify(studio_trial.setup(draft_id))


@bp.post("/drafts/<int:draft_id>/test-run")
@role_required("analyst")
def test_run(draft_id: int) -> Response:
    """Run the draft in memory on sample data (nothing is stored but an audit event); return the steps."""
    body, now = request.get_json(silent=True), get_runtime().clock.now()
    result = run_command(lambda: studio_trial.run(draft_id, body, actor=_actor(), now=now))
    return jsonify(result)


@bp.get("/diff")
@role_required("analyst")
def diff() -> str:
    """Show the elements changed, added and removed between two versions, listed and on the diagrams."""
    old, new = request.args.get("from", ""), request.args.get("to", "")
    compared = studio_diff.compare(old, new) if old and new else None
    return render_template("studio/diff.html", compared=compared, choices=studio_diff.choices(),
                           old=old, new=new)


@bp.get("/diff.json")
@role_required("analyst")
def diff_json() -> Response:
    """Return a diff with both sides' files, for the diagrams of the diff page."""
    return jsonify(studio_diff.compare(request.args.get("from", ""), request.args.get("to", "")))


@bp.get("/versions/<int:version>/migration")
@role_required("analyst")
def migration(version: int) -> str:
    """List the running instances of older versions and whether each can move to this one."""
    return render_template("studio/migration.html", version=studio_migration.target(version),
                           instances=studio_migration.candidates(version), limit=studio_migration.MAX_LISTED)


@bp.post("/versions/<int:version>/migrate")
@role_required("analyst")
def migrate(version: int) -> str:
    """Move the chosen instances to this version; each is checked again and recorded in its audit chain."""
    chosen, now = _instance_choices(), get_runtime().clock.now()
    results = run_command(lambda: studio_migration.migrate_instances(version, chosen, actor=_actor(), now=now))
    moved = sum(1 for r in results if r["migrated"])
    flash(_("Migrated %(moved)d of %(total)d instance(s) to v%(version)d.", moved=moved, total=len(results),
            version=version))
    return render_template("studio/migration.html", version=studio_migration.target(version),
                           instances=studio_migration.candidates(version), results=results,
                           limit=studio_migration.MAX_LISTED)


def _instance_choices() -> dict[int, int]:
    """Read the ticked instances ("ID:ROW_VERSION") of the migration form."""
    chosen: dict[int, int] = {}
    for value in request.form.getlist("instance"):
        try:
            instance_id, seen = (int(part) for part in value.split(":", 1))
        except ValueError:
            raise ValidationFailed(_("'%(value)s' is not an instance choice (ID:VERSION)", value=value),
                                   fields={"instance": _("bad choice")}) from None
        chosen[instance_id] = seen
    return chosen
