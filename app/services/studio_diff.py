"""Studio diffs between any two versions: deployed ones ("v3") and drafts ("d12")."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import ProcessDefinition
from app.models.studio import StudioDraft
from app.services.studio import DRAFT_STATUS_LABELS
from workflows.model_diff import diff_files

_REF = re.compile(r"^(v|d)(\d{1,9})$")


def resolve(ref: str, field: str) -> tuple[str, dict[str, str]]:
    """Return (label, files) for "v<version>" or "d<draft id>"; a bad reference says how to write one."""
    match = _REF.match((ref or "").strip())
    if match is None:
        raise ValidationFailed(_("'%(ref)s' is not a version: write v<number> for a deployed version (e.g. v2) or "
                                 "d<number> for a draft (e.g. d5)", ref=ref), fields={field: _("v<number> or d<number>")})
    kind, number = match.group(1), int(match.group(2))
    if kind == "v":
        definition = db.session.execute(select(ProcessDefinition).where(
            ProcessDefinition.version == number)).scalar_one_or_none()
        if definition is None:
            raise NotFound(_("version %(number)s was never deployed; pick one from the studio library", number=number))
        return f"v{number}", definition.file_map()
    draft = db.session.get(StudioDraft, number)
    if draft is None:
        raise NotFound(_("draft %(number)s does not exist; pick one from the studio library", number=number))
    return _("draft %(number)d (%(name)s)", number=number, name=draft.name), draft.file_map()


def compare(old_ref: str, new_ref: str) -> dict[str, Any]:
    """Return both sides' labels and files and every file's element changes."""
    old_label, old_files = resolve(old_ref, "from")
    new_label, new_files = resolve(new_ref, "to")
    files = [f.to_dict() for f in diff_files(old_files, new_files)]
    counts = {kind: sum(1 for f in files for c in f["changes"] if c["kind"] == kind)
              for kind in ("added", "removed", "changed")}
    return {"from": {"ref": old_ref, "label": old_label}, "to": {"ref": new_ref, "label": new_label},
            "files": files, "counts": counts, "old_files": old_files, "new_files": new_files}


def choices() -> list[tuple[str, str]]:
    """Return (reference, label) for every deployed version and draft, newest first."""
    versions = db.session.execute(select(ProcessDefinition.version, ProcessDefinition.process_ids)
                                  .order_by(ProcessDefinition.version.desc())).all()
    drafts = db.session.execute(select(StudioDraft.id, StudioDraft.name, StudioDraft.status)
                                .order_by(StudioDraft.id.desc())).all()
    return ([(f"v{v}", f"v{v} · {', '.join(ids or [])}") for v, ids in versions]
            + [(f"d{i}", _("draft %(number)d · %(name)s (%(status)s)", number=i, name=name,
                           status=DRAFT_STATUS_LABELS.get(status, status))) for i, name, status in drafts])
