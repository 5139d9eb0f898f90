"""Diffs between versions and drafts: elements added, removed and changed, listed and marked for the diagrams."""
from __future__ import annotations

import pytest

from app.services import studio, studio_diff
from tests.support.language import EN
from tests.support.studio import add_analysts, deploy_leave, engine_files, make_draft, sign_in
from workflows.model_diff import diff_files

BPMN = "bpmn/complaint_engine.bpmn"
DMN = "rules/priority.dmn"


def _changed(files: dict[str, str]) -> dict[str, str]:
    bpmn = (files[BPMN].replace("amount &lt; 50", "amount &lt; 80")
            .replace('name="Prepare"', 'name="Prepare data"')
            .replace('<spiffworkflow:property name="formKey" value="handle" />',
                     '<spiffworkflow:property name="formKey" value="handle_v2" />')
            .replace('<bpmn:endEvent id="end_done"', '<bpmn:endEvent id="end_closed"')
            .replace('targetRef="end_done"', 'targetRef="end_closed"'))
    dmn = files[DMN].replace("&gt;= 500", "&gt;= 400")
    return {**files, BPMN: bpmn, DMN: dmn}


def _by_id(diff: list, path: str) -> dict[str, dict]:  # type: ignore[type-arg]
    file = next(f for f in diff if f.path == path)
    return {c.element_id: c.to_dict() for c in file.changes}


def test_elements_are_compared_by_id_with_what_changed() -> None:
    old = engine_files()
    changes = _by_id(diff_files(old, _changed(old)), BPMN)
    assert changes["f_auto"]["kind"] == "changed"
    assert changes["f_auto"]["fields"]["conditionExpression"]["new"].endswith("amount < 80")
    assert changes["prepare"]["fields"]["name"] == {"old": "Prepare", "new": "Prepare data"}
    assert "formKey value=handle_v2" in changes["handle"]["fields"]["extension:properties"]["new"]
    assert changes["end_done"]["kind"] == "removed" and changes["end_closed"]["kind"] == "added"
    flow = next(c for c in changes.values() if c["type"] == "sequenceFlow" and "targetRef" in c["fields"])
    assert flow["fields"]["targetRef"] == {"old": "end_done", "new": "end_closed"}
    assert "refund" not in changes and "start" not in changes  # untouched elements are not listed


def test_decision_rows_added_removed_and_changed() -> None:
    old = engine_files()
    new_dmn = old[DMN].replace('<rule id="r_rest">', '<rule id="r_vip"><inputEntry id="v1"><text>-</text></inputEntry>'
                               '<inputEntry id="v2"><text>&gt; 9000</text></inputEntry><outputEntry id="v3"><text>"high"</text>'
                               '</outputEntry><outputEntry id="v4"><text>"vip"</text></outputEntry><outputEntry id="v5">'
                               '<text>"PT10M"</text></outputEntry></rule><rule id="r_rest">').replace("&gt;= 500", "&gt;= 400")
    changes = _by_id(diff_files(old, {**old, DMN: new_dmn}), DMN)
    assert changes["r_vip"]["kind"] == "added"
    assert changes["r_big"]["fields"] == {"inputs": {"old": ["-", ">= 500"], "new": ["-", ">= 400"]}}
    removed = _by_id(diff_files({**old, DMN: new_dmn}, old), DMN)
    assert removed["r_vip"]["kind"] == "removed"


def test_files_only_on_one_side_and_forms(db_session) -> None:  # type: ignore[no-untyped-def]
    old = engine_files()
    new = {k: v for k, v in old.items() if k != DMN}
    new["bpmn/forms/handle.json"] = old["bpmn/forms/handle.json"].replace('"required": ["outcome", "reply"]',
                                                                          '"required": ["outcome"]')
    status = {f.path: f.status for f in diff_files(old, new)}
    assert status == {BPMN: "same", DMN: "removed", "bpmn/forms/handle.json": "changed"}


def test_a_file_on_one_side_only_lists_its_elements() -> None:
    """An added or removed file said only "added"/"removed": none of its rules, tasks or fields was listed
    (so an imported decision table showed nothing to review, and the counts left it out)."""
    old = engine_files()
    new = {k: v for k, v in old.items() if k != DMN}
    removed = next(f for f in diff_files(old, new) if f.path == DMN)
    assert removed.status == "removed"
    assert {c.element_id for c in removed.changes} >= {"r_big", "r_rest"}
    assert {c.kind for c in removed.changes} == {"removed"}
    added = {f.path: f for f in diff_files(new, old)}
    assert added[DMN].status == "added" and "r_big" in {c.element_id for c in added[DMN].changes}
    assert {c.kind for c in added[DMN].changes} == {"added"}
    form = next(f for f in diff_files({}, {"bpmn/forms/handle.json": old["bpmn/forms/handle.json"]}))
    assert form.status == "added" and "reply" in {c.element_id for c in form.changes}
    bpmn = next(f for f in diff_files({}, {BPMN: old[BPMN]}))
    assert {"handle", "refund", "f_auto"} <= {c.element_id for c in bpmn.changes}


def test_a_deployed_version_against_a_draft_over_http(app, client, db_session, clock) -> None:  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    deploy_leave(clock.now())
    draft = studio.create_draft("rename", base_version=1, actor="li", now=clock.now())
    text = studio.file_content(draft, "bpmn/leave_request.bpmn").replace('name="Review"', 'name="Check"')
    studio.save_file(draft.id, "bpmn/leave_request.bpmn", text, actor="li", now=clock.now())
    db_session.commit()
    sign_in(client, "li")
    page = client.get(f"/studio/diff?from=v1&to=d{draft.id}").get_data(as_text=True)
    assert 'data-element-id="review" data-change="changed"' in page
    assert "新增 0 处" in page and "修改 1 处" in page and '<td>修改</td>' in page, "Chinese by default"
    english = client.get(f"/studio/diff?from=v1&to=d{draft.id}", headers=EN).get_data(as_text=True)
    assert "0 added" in english and "1 changed" in english and "<td>changed</td>" in english
    data = client.get(f"/studio/diff.json?from=v1&to=d{draft.id}").get_json()
    assert data["counts"] == {"added": 0, "removed": 0, "changed": 1}
    assert data["new_files"]["bpmn/leave_request.bpmn"] == text
    assert client.get(f"/studio/drafts/{draft.id}").get_data(as_text=True).count(f"to=d{draft.id}") == 1


@pytest.mark.parametrize("query, status, message", [
    ("from=v1&to=latest", 422, "'latest' is not a version: write v<number>"),
    ("from=v9&to=v1", 404, "version 9 was never deployed"),
    ("from=v1&to=d999", 404, "draft 999 does not exist"),
])
def test_bad_references_say_how_to_write_one(app, client, db_session, clock, query, status, message) -> None:  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    deploy_leave(clock.now())
    db_session.commit()
    sign_in(client, "li")
    response = client.get(f"/studio/diff.json?{query}", headers={"Accept": "application/json", **EN})
    assert response.status_code == status and message in response.get_json()["detail"]


def test_choices_list_versions_and_drafts(db_session, clock) -> None:  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    deploy_leave(clock.now())
    draft = make_draft({}, clock.now(), name="empty")
    refs = [ref for ref, _label in studio_diff.choices()]
    assert refs == ["v1", f"d{draft.id}"]
