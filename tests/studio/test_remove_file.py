"""Removing a file from a draft (e.g. a diagram imported by mistake): the service existed, no page reached it."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessEvent
from app.services import studio
from tests.support.language import EN
from tests.support.studio import engine_files, make_draft

EXTRA = "rules/extra.dmn"


def test_an_analyst_removes_a_file_from_a_draft_and_the_approval_is_withdrawn(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    files = engine_files()
    draft = make_draft({**files, EXTRA: files["rules/priority.dmn"].replace('id="priority', 'id="extra')}, clock.now())
    draft.status, draft.approved_by = "approved", "wang"
    db.session.commit()
    page = analyst_client.get(f"/studio/drafts/{draft.id}", headers=EN).get_data(as_text=True)
    assert f'name="path" value="{EXTRA}"' in page and ">Remove</button>" in page
    response = analyst_client.post(f"/studio/drafts/{draft.id}/files/delete", data={"path": EXTRA}, headers=EN,
                                   follow_redirects=True)
    assert response.status_code == 200 and f"Removed {EXTRA} from the draft." in response.get_data(as_text=True)
    draft = studio.get_draft(draft.id)
    assert EXTRA not in draft.file_map() and set(draft.file_map()) == set(files)
    assert (draft.status, draft.approved_by) == ("draft", None)
    event = db.session.execute(select(ProcessEvent).where(ProcessEvent.event_type == "studio.file_deleted")).scalar_one()
    assert (event.actor, json.loads(event.payload)["path"]) == ("li", EXTRA)
    again = analyst_client.post(f"/studio/drafts/{draft.id}/files/delete", data={"path": EXTRA}, headers=EN)
    assert again.status_code == 404 and "has no file &#39;rules/extra.dmn&#39;" in again.get_data(as_text=True)


def test_a_deployed_draft_keeps_its_files(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(engine_files(), clock.now())
    draft.status = "deployed"
    db.session.commit()
    assert ">Remove</button>" not in analyst_client.get(f"/studio/drafts/{draft.id}", headers=EN).get_data(as_text=True)
    response = analyst_client.post(f"/studio/drafts/{draft.id}/files/delete", data={"path": "rules/priority.dmn"},
                                   headers=EN)
    assert response.status_code == 409
    assert "rules/priority.dmn" in studio.get_draft(draft.id).file_map()
