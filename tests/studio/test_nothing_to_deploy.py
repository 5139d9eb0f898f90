"""A draft that runs exactly like the version it started from cannot go to review over HTTP."""
from __future__ import annotations

from app.extensions import db
from app.services import studio
from tests.support.language import EN
from tests.support.studio import deploy_leave


def test_request_review_of_an_unchanged_draft_says_there_is_nothing_to_deploy(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    deploy_leave(clock.now())
    draft = studio.create_draft("no change", base_version=None, actor="li", now=clock.now())
    db.session.commit()  # a savepoint here: the refused request rolls back only its own work
    response = analyst_client.post(f"/studio/drafts/{draft.id}/request-review", headers=EN)
    assert response.status_code == 409
    assert "there is nothing to deploy" in response.get_data(as_text=True)
    chinese = analyst_client.post(f"/studio/drafts/{draft.id}/request-review")
    assert chinese.status_code == 409 and "没有可部署的内容" in chinese.get_data(as_text=True)
    assert studio.get_draft(draft.id).status == "draft"
