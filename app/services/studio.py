"""Analyst studio use-cases: drafts from versions or imports, save, review, approve, deploy.

Every step is an audit event on the system chain. The four-eyes rule lives here: whoever wrote
or changed a draft (read from those events), or asked for its review, cannot approve it.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import Conflict, DefinitionInvalid, FourEyesViolation, NotFound, ValidationFailed
from app.extensions import db
from app.models import ProcessDefinition, ProcessEvent
from app.models.studio import DRAFT_TRANSITIONS, DraftStatus, StudioDraft, StudioDraftFile
from app.services import audit, definitions
from app.services.studio_files import check_content, check_path, decode_upload, import_path, validate
from workflows.definitions import DEFAULT_MAX_BYTES, Problem
from workflows.model_diff import same_model

# What the analyst reads for a draft's status and for the actions on it (the templates use the same words).
DRAFT_STATUS_LABELS = {"draft": _l("draft"), "in_review": _l("in review"), "approved": _l("approved"),
                       "deployed": _l("deployed")}
ACTION_LABELS = {"edit": _l("edit"), "request_review": _l("request review of"), "approve": _l("approve"),
                 "deploy": _l("deploy")}

MAX_UPLOAD = DEFAULT_MAX_BYTES


def get_draft(draft_id: int) -> StudioDraft:
    """Return a draft or raise NotFound."""
    draft = db.session.get(StudioDraft, draft_id)
    if draft is None:
        raise NotFound(_("studio draft %(id)s does not exist; open the studio library to pick one", id=draft_id))
    return draft


def create_draft(name: str, *, base_version: int | None, actor: str, now: datetime) -> StudioDraft:
    """Start a draft holding a copy of a deployed version's files (the newest when none is named)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed(_("give the draft a name of 1 to 120 characters"), fields={"name": _("required")})
    base = _version(base_version)
    draft = StudioDraft(name=name, author=actor, updated_by=actor, created_at=now, updated_at=now,
                        base_version=base.version if base else None, status=DraftStatus.DRAFT.value)
    draft.files = [StudioDraftFile(path=p, content=t) for p, t in sorted((base.file_map() if base else {}).items())]
    db.session.add(draft)
    db.session.flush()
    _record("studio.draft_created", draft, actor, now, base_version=draft.base_version)
    return draft


def import_file(filename: str, data: bytes, *, draft_id: int | None, actor: str,
                now: datetime) -> tuple[StudioDraft, list[Problem]]:
    """Store an uploaded .bpmn/.dmn in a draft (a new one unless given) and return its problems.

    Unsafe files (DOCTYPE/entities, oversize, expressions reaching Python internals) are refused
    before anything is written; files that merely cannot run are stored with the reasons.
    """
    path = import_path(filename)
    text = decode_upload(data, filename)
    check_content(path, text)
    draft = get_draft(draft_id) if draft_id else create_draft(path.rsplit("/", 1)[-1], base_version=0,
                                                             actor=actor, now=now)
    _put(draft, path, text, actor=actor, now=now)
    _record("studio.file_imported", draft, actor, now, path=path, bytes=len(data))
    return draft, validate(draft.file_map())


def save_file(draft_id: int, path: str, text: str, *, actor: str, now: datetime) -> list[Problem]:
    """Save one file of a draft and return the draft's problems; an edit withdraws any approval."""
    draft = get_draft(draft_id)
    _require(draft, "edit")
    check_content(check_path(path), text)
    if draft.file_map().get(path) == text:
        return validate(draft.file_map())
    _put(draft, path, text, actor=actor, now=now)
    _record("studio.file_saved", draft, actor, now, path=path, bytes=len(text.encode("utf-8")))
    return validate(draft.file_map())


def new_form(draft_id: int, name: str, *, actor: str, now: datetime) -> str:
    """Add an empty JSON Schema form (bpmn/forms/NAME.json) to a draft and return its path."""
    draft = get_draft(draft_id)
    _require(draft, "edit")
    name = (name or "").strip().removesuffix(".json")
    path = check_path(f"bpmn/forms/{name}.json")
    if path in draft.file_map():
        raise Conflict(_("the draft already has form '%(name)s'; open it from the file list or pick another name",
                         name=name))
    starter = {"title": name.replace("_", " ").capitalize(), "type": "object", "required": [],
               "properties": {"note": {"type": "string", "title": "Note", "maxLength": 500}}}
    _put(draft, path, json.dumps(starter, ensure_ascii=False, indent=2), actor=actor, now=now)
    _record("studio.file_saved", draft, actor, now, path=path, created=True)
    return path


def delete_file(draft_id: int, path: str, *, actor: str, now: datetime) -> None:
    """Remove one file from a draft (an edit: it withdraws any approval)."""
    draft = get_draft(draft_id)
    _require(draft, "edit")
    file_content(draft, path)  # NotFound naming the files it has
    draft.files = [f for f in draft.files if f.path != path]
    _touch(draft, actor, now)
    _record("studio.file_deleted", draft, actor, now, path=path)


def request_review(draft_id: int, *, actor: str, now: datetime) -> StudioDraft:
    """Ask another analyst to review a draft that has no validation errors."""
    draft = get_draft(draft_id)
    _require(draft, "request_review")
    _require_valid(draft, _l("asking for review"))
    _require_change(draft)
    draft.status, draft.review_requested_by, draft.review_requested_at = DraftStatus.IN_REVIEW.value, actor, now
    _record("studio.review_requested", draft, actor, now)
    return draft


def approve(draft_id: int, *, actor: str, now: datetime) -> StudioDraft:
    """Approve a draft in review; its author and last editor may not (four-eyes rule)."""
    draft = get_draft(draft_id)
    _require(draft, "approve")
    if actor in (draft.author, draft.updated_by, draft.review_requested_by) or actor in _editors(draft):
        raise FourEyesViolation(_("you wrote or changed this draft, so you cannot approve it: another analyst "
                                  "must review and approve it (four-eyes rule)"))
    _require_valid(draft, _l("approving"))
    draft.status, draft.approved_by, draft.approved_at = DraftStatus.APPROVED.value, actor, now
    _record("studio.approved", draft, actor, now)
    return draft


EDIT_EVENTS = ("studio.draft_created", "studio.file_saved", "studio.file_imported", "studio.file_deleted")


def _editors(draft: StudioDraft) -> set[str]:
    """Everyone who created or changed the draft's files, from its events on the system chain."""
    rows = db.session.execute(select(ProcessEvent.actor, ProcessEvent.payload).where(
        ProcessEvent.stream == audit.SYSTEM_STREAM, ProcessEvent.event_type.in_(EDIT_EVENTS),
        ProcessEvent.payload.contains(f'"draft_id":{draft.id},'))).all()
    return {actor for actor, payload in rows if actor and json.loads(payload).get("draft_id") == draft.id}


def deploy(draft_id: int, *, actor: str, now: datetime) -> ProcessDefinition:
    """Deploy an approved draft as a new version; running instances stay on their own version."""
    draft = get_draft(draft_id)
    _require(draft, "deploy")
    _require_change(draft)
    definition, created = definitions.deploy(draft.file_map(), actor=actor, now=now, approved_by=draft.approved_by,
                                             comment=f"studio draft {draft.id}: {draft.name}")
    draft.status, draft.deployed_version = DraftStatus.DEPLOYED.value, definition.version
    _record("studio.deployed", draft, actor, now, version=definition.version, new_version=created)
    return definition


def draft_summary(draft: StudioDraft) -> dict[str, Any]:
    """Return what the studio shows about a draft (no file contents)."""
    return {"id": draft.id, "name": draft.name, "author": draft.author, "status": draft.status,
            "base_version": draft.base_version, "updated_at": draft.updated_at.isoformat(),
            "updated_by": draft.updated_by, "review_requested_by": draft.review_requested_by,
            "approved_by": draft.approved_by, "deployed_version": draft.deployed_version,
            "files": [f.path for f in draft.files]}


def file_content(draft: StudioDraft, path: str) -> str:
    """Return one file of a draft, or raise NotFound naming the files it has."""
    for file in draft.files:
        if file.path == path:
            return file.content
    raise NotFound(_("draft '%(name)s' has no file '%(path)s'; it has %(files)s", name=draft.name, path=path,
                     files=", ".join(draft.file_map()) or _("none")))


def form_keys(draft: StudioDraft) -> list[str]:
    """Return the form keys (file stems) a user task in this draft can name."""
    return sorted(f.path.rsplit("/", 1)[-1].removesuffix(".json") for f in draft.files if f.path.endswith(".json"))


def validate_draft(draft: StudioDraft) -> list[Problem]:
    """Return every problem in a draft's files (errors and warnings)."""
    return validate(draft.file_map())


def list_drafts() -> list[StudioDraft]:
    """Return every draft, most recently changed first."""
    return list(db.session.execute(select(StudioDraft).order_by(StudioDraft.updated_at.desc(),
                                                                StudioDraft.id.desc())).scalars())


def _version(number: int | None) -> ProcessDefinition | None:
    if number == 0:
        return None
    query = select(ProcessDefinition).order_by(ProcessDefinition.version.desc()).limit(1)
    if number is not None:
        query = select(ProcessDefinition).where(ProcessDefinition.version == number)
    found = db.session.execute(query).scalar_one_or_none()
    if number is not None and found is None:
        raise NotFound(_("version %(number)s was never deployed; pick one from the studio library", number=number))
    return found


def _put(draft: StudioDraft, path: str, text: str, *, actor: str, now: datetime) -> None:
    existing = next((f for f in draft.files if f.path == path), None)
    if existing is None:
        draft.files.append(StudioDraftFile(path=path, content=text))
    else:
        existing.content = text
    _touch(draft, actor, now)


def _touch(draft: StudioDraft, actor: str, now: datetime) -> None:
    if draft.status != DraftStatus.DRAFT.value:  # a changed draft needs a fresh review (asked for again)
        draft.status, draft.approved_by, draft.approved_at = DraftStatus.DRAFT.value, None, None
        draft.review_requested_by = draft.review_requested_at = None
    draft.updated_by, draft.updated_at = actor, now
    db.session.flush()


def _require(draft: StudioDraft, action: str) -> None:
    if DraftStatus(draft.status) not in DRAFT_TRANSITIONS[action]:
        allowed = _(" or ").join(str(DRAFT_STATUS_LABELS[s.value]) for s in DRAFT_TRANSITIONS[action])
        raise Conflict(_("draft '%(name)s' is %(status)s; you can %(action)s only a draft that is %(allowed)s "
                         "(start a new draft from the deployed version to change it)", name=draft.name,
                         status=DRAFT_STATUS_LABELS[draft.status], action=ACTION_LABELS[action], allowed=allowed))


def _require_valid(draft: StudioDraft, doing: object) -> None:
    errors = [p for p in validate(draft.file_map()) if p.severity == "error"]
    if errors:
        raise DefinitionInvalid(_("fix the %(count)d problem(s) in the validation list before %(doing)s",
                                  count=len(errors), doing=doing), errors)


def _require_change(draft: StudioDraft) -> None:
    """Refuse a draft whose model is the one of the version it started from (the studio diff says "same")."""
    base = _version(draft.base_version) if draft.base_version else None
    if base is not None and same_model(base.file_map(), draft.file_map()):
        raise Conflict(_("draft '%(name)s' runs exactly like v%(version)d, the version it started from, so there "
                         "is nothing to deploy: change the process, a decision or a form first (the diff against "
                         "v%(version)d lists what differs)", name=draft.name, version=base.version))


def _record(event_type: str, draft: StudioDraft, actor: str, now: datetime, **extra: Any) -> None:
    audit.record_system_event(event_type, {"draft_id": draft.id, "name": draft.name, "status": draft.status,
                                           **extra}, actor=actor, now=now)
