"""Migration check: running instances of older versions, which can move to a new one, and the move itself."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessDefinition, ProcessEvent, ProcessInstance
from app.services import definitions, processes, studio_migration
from app.services.audit import instance_stream
from tests.support.language import EN
from tests.support.studio import add_analysts, deploy_leave, leave_files, sign_in

BPMN = "bpmn/leave_request.bpmn"
# v2 renames the review and adds a script after it: the instance must run that script once moved.
NOTED = (leave_files()[BPMN]
         .replace('name="Review"', 'name="Review (v2)"')
         .replace('<bpmn:sequenceFlow id="f_review__done" sourceRef="review" targetRef="done" />',
                  '<bpmn:sequenceFlow id="f_review__note" sourceRef="review" targetRef="note" />'
                  '<bpmn:scriptTask id="note" name="Note"><bpmn:incoming>f_review__note</bpmn:incoming>'
                  '<bpmn:outgoing>f_note__done</bpmn:outgoing><bpmn:script>noted = "v2"</bpmn:script></bpmn:scriptTask>'
                  '<bpmn:sequenceFlow id="f_note__done" sourceRef="note" targetRef="done" />')
         .replace('<bpmn:outgoing>f_review__done</bpmn:outgoing>', '<bpmn:outgoing>f_review__note</bpmn:outgoing>')
         .replace('<bpmn:incoming>f_review__done</bpmn:incoming>', '<bpmn:incoming>f_note__done</bpmn:incoming>'))
# v2 without the review: an instance waiting in it has nowhere to stand.
NO_REVIEW = (leave_files()[BPMN]
             .replace('<bpmn:userTask id="review" name="Review"><bpmn:extensionElements><spiffworkflow:properties>'
                      '<spiffworkflow:property name="formKey" value="leave" /><spiffworkflow:property name="candidateGroups" '
                      'value="supervisors" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>'
                      'f_asked__review</bpmn:incoming><bpmn:outgoing>f_review__done</bpmn:outgoing></bpmn:userTask>', '')
             .replace('<bpmn:sequenceFlow id="f_review__done" sourceRef="review" targetRef="done" />', '')
             .replace('targetRef="review"', 'targetRef="done"').replace('<bpmn:incoming>f_review__done</bpmn:incoming>',
                                                                         '<bpmn:incoming>f_asked__review</bpmn:incoming>'))


@pytest.fixture
def waiting(db_session, clock) -> ProcessInstance:  # type: ignore[no-untyped-def]
    deploy_leave(clock.now())
    return processes.start_instance("leave_request", {"days": 3}, actor="t", now=clock.now())


def _deploy(text: str, clock) -> int:  # type: ignore[no-untyped-def]
    assert text != leave_files()[BPMN]
    definition, created = definitions.deploy({**leave_files(), BPMN: text}, actor="li", now=clock.now())
    assert created
    return definition.version


def test_a_compatible_change_migrates_and_the_instance_ends_on_the_new_version(waiting, clock) -> None:  # type: ignore[no-untyped-def]
    version = _deploy(NOTED, clock)
    [listed] = studio_migration.candidates(version)
    assert (listed["id"], listed["can_migrate"], listed["from_version"]) == (waiting.id, True, 1)
    results = studio_migration.migrate_instances(version, {waiting.id: listed["row_version"]}, actor="li", now=clock.now())
    assert results[0]["migrated"] is True
    instance = db.session.get(ProcessInstance, waiting.id)
    assert instance.definition.version == version and instance.version > listed["row_version"]
    task = db.session.execute(select(HumanTask).where(HumanTask.instance_id == waiting.id)).scalar_one()
    assert task.title == "Review (v2)" and task.status == "open"
    stream = db.session.execute(select(ProcessEvent.event_type, ProcessEvent.payload)
                                .where(ProcessEvent.stream == instance_stream(waiting.id))
                                .order_by(ProcessEvent.seq)).all()
    migrated = [json.loads(p) if isinstance(p, str) else p for t, p in stream if t == "instance.migrated"]
    assert migrated and migrated[0]["from_version"] == 1 and migrated[0]["to_version"] == version
    processes.complete_task(task.task_id, {"approved": True}, actor="zhuguan", now=clock.now())
    instance = db.session.get(ProcessInstance, waiting.id)
    assert instance.status == "completed"
    assert processes.load_execution(instance, now=clock.now()).data["noted"] == "v2"  # ran the v2-only script
    assert studio_migration.candidates(version) == []


def test_an_incompatible_change_is_refused_with_the_reason(waiting, clock) -> None:  # type: ignore[no-untyped-def]
    version = _deploy(NO_REVIEW, clock)
    [listed] = studio_migration.candidates(version)
    assert listed["can_migrate"] is False
    assert listed["reasons"] == ["step 'Review' that the instance is ready at no longer exists in the new version"]
    before = db.session.get(ProcessInstance, waiting.id)
    state, row_version = before.state, before.version
    results = studio_migration.migrate_instances(version, {waiting.id: row_version}, actor="li", now=clock.now())
    assert results == [{"id": waiting.id, "migrated": False, "reasons": listed["reasons"]}]
    after = db.session.get(ProcessInstance, waiting.id)
    assert (after.definition.version, after.state, after.version) == (1, state, row_version)


def test_an_instance_changed_since_the_check_is_refused(waiting, clock) -> None:  # type: ignore[no-untyped-def]
    version = _deploy(NOTED, clock)
    [listed] = studio_migration.candidates(version)
    results = studio_migration.migrate_instances(version, {waiting.id: listed["row_version"] - 1}, actor="li",
                                                 now=clock.now())
    assert results[0]["migrated"] is False
    assert "changed since you checked it" in results[0]["reasons"][0]
    assert db.session.get(ProcessInstance, waiting.id).definition.version == 1


def test_the_migration_page_lists_and_moves_chosen_instances(app, client, waiting, clock) -> None:  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    version = _deploy(NOTED, clock)
    db.session.commit()
    sign_in(client, "li")
    library = client.get("/studio").get_data(as_text=True)
    assert f"/studio/versions/{version}/migration" in library and f"from=v1&amp;to=v{version}" in library
    page = client.get(f"/studio/versions/{version}/migration").get_data(as_text=True)
    assert f'data-instance="{waiting.id}" data-can-migrate="yes"' in page
    row_version = db.session.get(ProcessInstance, waiting.id).version
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post(f"/studio/versions/{version}/migrate", data={"instance": f"{waiting.id}:{row_version}"},
                               headers=EN)
        assert response.status_code == 200
        assert f"#{waiting.id}:\n    migrated v1 → v{version}" in response.get_data(as_text=True)
        assert f"Migrated 1 of 1 instance(s) to v{version}." in response.get_data(as_text=True)
        assert client.post(f"/studio/versions/{version}/migrate", data={"instance": "x"}).status_code == 422
        assert client.post(f"/studio/versions/{version}/migrate", data={}).status_code == 422
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/studio/versions/99/migration").status_code == 404


def test_a_migrated_instance_replays_identically_and_a_silent_repin_does_not(waiting, clock) -> None:  # type: ignore[no-untyped-def]
    """Replay (the auditor's button, `flask audit replay`) said DIFFERENT at step 1 for every migrated
    instance: it replayed the whole history on the version the instance is pinned to now."""
    from app.services.audit_replay import replay_instance
    version = _deploy(NOTED, clock)
    [listed] = studio_migration.candidates(version)
    studio_migration.migrate_instances(version, {waiting.id: listed["row_version"]}, actor="li", now=clock.now())
    assert replay_instance(waiting.id).describe().startswith("identical:")
    task = db.session.execute(select(HumanTask).where(HumanTask.instance_id == waiting.id)).scalar_one()
    processes.complete_task(task.task_id, {"approved": True}, actor="zhuguan", now=clock.now())
    report = replay_instance(waiting.id)
    assert report.identical, report.describe()
    other = processes.start_instance("leave_request", {"days": 2}, actor="t", now=clock.now())
    assert db.session.get(ProcessInstance, other.id).definition.version == version
    v1 = db.session.execute(select(ProcessDefinition).where(ProcessDefinition.version == 1)).scalar_one()
    db.session.get(ProcessInstance, other.id).definition_id = v1.id  # re-pinned in the database, no event
    report = replay_instance(other.id)
    assert not report.identical and "the instance was started on version" in report.describe()
