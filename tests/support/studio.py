"""Studio test helpers: the small leave-request files, analysts, and a deployed first version."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.extensions import db
from app.models import ProcessDefinition, User
from app.services import definitions

DATA = Path(__file__).resolve().parent.parent / "data" / "studio"
CORPUS = Path(__file__).resolve().parent.parent / "data" / "bpmn-corpus"


def leave_files() -> dict[str, str]:
    """Return the leave-request process and its form as draft files."""
    return {"bpmn/leave_request.bpmn": (DATA / "leave_request.bpmn").read_text(encoding="utf-8"),
            "bpmn/forms/leave.json": (DATA / "leave.json").read_text(encoding="utf-8")}


def add_analysts(now: datetime) -> None:
    """Add analysts li and wang and a supervisor (so group 'supervisors' is known); password kesu-demo."""
    for username, name, roles, groups in (("li", "李分析", ["analyst"], []), ("wang", "王分析", ["analyst"], []),
                                          ("zhuguan", "赵主管", ["supervisor"], ["supervisors"])):
        user = User(username=username, display_name=name, roles=roles, groups=groups, created_at=now)
        user.set_password("kesu-demo")
        db.session.add(user)
    db.session.flush()


def deploy_leave(now: datetime) -> ProcessDefinition:
    """Deploy the leave-request files as the first version."""
    definition, _ = definitions.deploy(leave_files(), actor="setup", now=now)
    return definition
