"""Studio test helpers: the small leave-request files, analysts, and a deployed first version."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessDefinition, User
from app.models.studio import StudioDraft
from app.services import definitions, studio

DATA = Path(__file__).resolve().parent.parent / "data" / "studio"
CORPUS = Path(__file__).resolve().parent.parent / "data" / "bpmn-corpus"
VENDOR = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "bpmn-js" / "bpmn-modeler.production.min.js"
# Browser tests of the studio need bpmn-js in app/static/vendor (make install, with npm).
needs_vendor = pytest.mark.skipif(not VENDOR.exists(), reason="front-end packages not vendored: run `make install` "
                                                              "(needs npm)")


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


def engine_files() -> dict[str, str]:
    """Return the engine-test complaint process (script, decision, gateway, service, user tasks, SLA timer)."""
    data = DATA.parent / "engine"
    return {"bpmn/complaint_engine.bpmn": (data / "complaint_engine.bpmn").read_text(encoding="utf-8"),
            "rules/priority.dmn": (data / "priority.dmn").read_text(encoding="utf-8"),
            "bpmn/forms/handle.json": (data / "handle.json").read_text(encoding="utf-8")}


def sign_in(client, username: str) -> None:  # type: ignore[no-untyped-def]
    """Make the test client's session belong to ``username``."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def make_draft(files: dict[str, str], now: datetime, name: str = "trial") -> StudioDraft:
    """Create an empty draft (analyst li) and save each file into it."""
    draft = studio.create_draft(name, base_version=0, actor="li", now=now)
    for path, text in files.items():
        studio.save_file(draft.id, path, text, actor="li", now=now)
    return draft


def browser_sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Sign ``username`` in through the login form of a live server (password kesu-demo)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
