"""Studio diffs between any two versions: deployed ones ("v3") and drafts ("d12")."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import ProcessDefinition
from app.models.studio import StudioDraft
from workflows.model_diff import diff_files

_REF = re.compile(r"^(v|d)(\d{1,9})$")


def resolve(ref: str, field: str) -> tuple[str, dict[str, str]]:
    """Return (label, files) for "v<version>" or "d<draft id>"; a bad reference says how to write one."""
    match = _REF.match((ref or "").strip())
    if match is None:
        raise ValidationFailed(f"'{ref}' is not a version: write v<number> for a deployed version (e.g. v2) or "
                               f"d<number> for a draft (e.g. d5)", fields={field: "v<number> or d<number>"})
    kind, number = match.group(1), int(match.group(2))
    if kind == "v":
        definition = db.session.execute(select(ProcessDefinition).where(
            ProcessDefinition.version == number)).scalar_one_or_none()
        if definition is None:
            raise NotFound(f"version {number} was never deployed; pick one from the studio library")
        return f"v{number}", definition.file_map()
    draft = db.session.get(StudioDraft, number)
    if draft is None:
        raise NotFound(f"draft {number} does not exist; pick one from the studio library")
    return f"draft {number} ({draft.name})", draft.file_map()


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
            + [(f"d{i}", f"draft {i} · {name} ({status.replace('_', ' ')})") for i, name, status in drafts])
