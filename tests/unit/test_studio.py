"""Studio drafts: save and validate, review, four eyes, deploy as a new version, audit trail."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, DefinitionInvalid, FourEyesViolation, ValidationFailed
from app.extensions import db
from app.models import ProcessEvent, ProcessInstance
from app.models.studio import StudioDraft
from app.services import processes, studio, studio_library
from tests.support.studio import add_analysts, deploy_leave

BPMN = "bpmn/leave_request.bpmn"


@pytest.fixture
def draft(db_session, clock):  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    deploy_leave(clock.now())
    return studio.create_draft("longer review", base_version=None, actor="li", now=clock.now())


def _edit(draft: StudioDraft, old: str, new: str, actor: str = "li", now=None) -> list:  # type: ignore[no-untyped-def]
    text = studio.file_content(draft, BPMN).replace(old, new)
    assert text != studio.file_content(draft, BPMN), f"{old!r} not in the file"
    return studio.save_file(draft.id, BPMN, text, actor=actor, now=now or draft.updated_at)


def _messages(problems: list) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"[{p.element_id}] {p.message}" for p in problems]


def test_a_draft_copies_the_newest_version_and_validates_clean(draft) -> None:  # type: ignore[no-untyped-def]
    assert draft.base_version == 1 and sorted(draft.file_map()) == ["bpmn/forms/leave.json", BPMN]
    assert studio.validate_draft(draft) == []


@pytest.mark.parametrize("old, new, expected", [
    ('value="leave"', 'value="holiday"', "[review] form 'holiday' is not among the files (add bpmn/forms/holiday.json)"),
    ('value="supervisors"', 'value="nobody"', "[review] unknown group 'nobody' (known: customer, supervisors)"),
    ('<bpmn:userTask id="review" name="Review"><bpmn:extensionElements>',
     '<bpmn:serviceTask id="review" name="Review"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
     'id="teleport" /></bpmn:extensionElements><bpmn:extensionElements>', None),
])
def test_each_problem_is_listed_with_its_element(draft, old, new, expected) -> None:  # type: ignore[no-untyped-def]
    if expected is None:
        text = studio.file_content(draft, BPMN).replace(
            '<bpmn:userTask id="review" name="Review">',
            '<bpmn:serviceTask id="review" name="Review"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
            'id="teleport" /></bpmn:extensionElements>').replace("</bpmn:userTask>", "</bpmn:serviceTask>")
        text = text.replace('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" '
                            'value="leave" /><spiffworkflow:property name="candidateGroups" value="supervisors" />'
                            '</spiffworkflow:properties></bpmn:extensionElements>', "")
        problems = studio.save_file(draft.id, BPMN, text, actor="li", now=draft.updated_at)
        assert any(m.startswith("[review] unknown service operator 'teleport' (registered: ") for m in _messages(problems))
        return
    assert expected in _messages(_edit(draft, old, new))


def test_timer_and_condition_problems_say_how_to_write_them(draft) -> None:  # type: ignore[no-untyped-def]
    timer = ('<bpmn:boundaryEvent id="late" attachedToRef="review"><bpmn:outgoing>f_late</bpmn:outgoing>'
             '<bpmn:timerEventDefinition><bpmn:timeDuration>"two hours"</bpmn:timeDuration></bpmn:timerEventDefinition>'
             '</bpmn:boundaryEvent><bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="done" />'
             '<bpmn:exclusiveGateway id="gw" /><bpmn:sequenceFlow id="f_gw" sourceRef="gw" targetRef="done">'
             '<bpmn:conditionExpression>amount &gt;&gt;&gt; 2</bpmn:conditionExpression></bpmn:sequenceFlow>'
             '<bpmn:sequenceFlow id="f_in" sourceRef="asked" targetRef="gw" />'
             '<bpmn:endEvent id="done"')
    messages = _messages(_edit(draft, '<bpmn:endEvent id="done"', timer))
    assert any(m.startswith('[late] timer expression `"two hours"` is not an ISO 8601 duration') for m in messages), messages
    assert any(m.startswith("[gw] condition `amount >>> 2` refused") for m in messages), messages
    assert "[gw] gateway has no default flow; if no condition holds the instance stops with an error" in messages


def test_an_expression_reaching_python_internals_is_refused_and_not_saved(draft) -> None:  # type: ignore[no-untyped-def]
    before = studio.file_content(draft, BPMN)
    with pytest.raises(ValidationFailed, match="element 'f_review__done' has the expression `__import__"):
        _edit(draft, '<bpmn:sequenceFlow id="f_review__done" sourceRef="review" targetRef="done" />',
              '<bpmn:sequenceFlow id="f_review__done" sourceRef="review" targetRef="done"><bpmn:conditionExpression>'
              '__import__("os").system("id")</bpmn:conditionExpression></bpmn:sequenceFlow>')
    db.session.expire_all()
    assert studio.file_content(studio.get_draft(draft.id), BPMN) == before


def test_a_draft_with_errors_cannot_go_to_review(draft, clock) -> None:  # type: ignore[no-untyped-def]
    _edit(draft, 'value="leave"', 'value="holiday"')
    with pytest.raises(DefinitionInvalid, match=r"fix the 1 problem\(s\) in the validation list before asking for review"):
        studio.request_review(draft.id, actor="li", now=clock.now())


def test_review_four_eyes_and_deploy_leave_running_instances_on_their_version(draft, clock) -> None:  # type: ignore[no-untyped-def]
    running = processes.start_instance("leave_request", {}, actor="t", now=clock.now())
    _edit(draft, 'name="Review"', 'name="Review twice"')
    studio.request_review(draft.id, actor="li", now=clock.now())
    with pytest.raises(FourEyesViolation, match="you wrote or changed this draft, so you cannot approve it: "
                                                "another analyst must review and approve it"):
        studio.approve(draft.id, actor="li", now=clock.now())
    with pytest.raises(Conflict, match="draft 'longer review' is in review; you can deploy only a draft that is approved"):
        studio.deploy(draft.id, actor="li", now=clock.now())
    studio.approve(draft.id, actor="wang", now=clock.now())
    version = studio.deploy(draft.id, actor="li", now=clock.now())
    assert (version.version, version.approved_by, draft.status, draft.deployed_version) == (2, "wang", "deployed", 2)
    assert db.session.get(ProcessInstance, running.id).definition_id != version.id
    new = processes.start_instance("leave_request", {}, actor="t", now=clock.now())
    assert new.definition_id == version.id
    counts = {v["version"]: v["running"] for v in studio_library.versions()}
    assert counts == {1: 1, 2: 1}
    # an instance of another process pinned to version 2 (as a call activity's subprocess file would be)
    db.session.add(ProcessInstance(definition_id=version.id, process_id="leave_notice", status="waiting",
                                   created_at=clock.now(), updated_at=clock.now(), version=1))
    db.session.flush()
    library = studio_library.library()
    [leave] = [p for p in library["processes"] if p["name"] == "leave_request"]
    assert {v["version"]: v["running"] for v in leave["versions"]} == {2: 1, 1: 1}  # not 2 for version 2
    assert {v["version"]: v["running"] for v in library["versions"]} == {2: 2, 1: 1}
    events = db.session.execute(select(ProcessEvent.event_type).where(ProcessEvent.stream == "system")
                                .order_by(ProcessEvent.seq)).scalars().all()
    assert [e for e in events if e.startswith("studio.")] == [
        "studio.draft_created", "studio.file_saved", "studio.review_requested", "studio.approved", "studio.deployed"]


def test_an_edit_after_approval_withdraws_it(draft, clock) -> None:  # type: ignore[no-untyped-def]
    _edit(draft, 'name="Review"', 'name="Review twice"')
    studio.request_review(draft.id, actor="li", now=clock.now())
    studio.approve(draft.id, actor="wang", now=clock.now())
    _edit(draft, 'name="Review twice"', 'name="Check"', actor="wang")
    assert (draft.status, draft.approved_by) == ("draft", None)
    assert (draft.review_requested_by, draft.review_requested_at) == (None, None), \
        "the draft page said 'Review asked by li.' on a draft back in editing"
    studio.request_review(draft.id, actor="wang", now=clock.now())
    with pytest.raises(FourEyesViolation):
        studio.approve(draft.id, actor="wang", now=clock.now())


def test_no_one_who_changed_the_draft_approves_it_even_when_someone_edited_after_them(draft, clock) -> None:  # type: ignore[no-untyped-def]
    """Only the author, last editor and requester were refused: wang's change, followed by any edit of li's,
    could be approved by wang himself, so nobody but its writer had ever reviewed it."""
    _edit(draft, 'name="Review"', 'name="Review by wang"', actor="wang")
    _edit(draft, 'name="Review by wang"', 'name="Review twice"')
    studio.request_review(draft.id, actor="li", now=clock.now())
    with pytest.raises(FourEyesViolation, match="you wrote or changed this draft"):
        studio.approve(draft.id, actor="wang", now=clock.now())
    other = studio.create_draft("other draft", base_version=None, actor="zhuguan", now=clock.now())
    assert other.id != draft.id
    studio.approve(draft.id, actor="zhuguan", now=clock.now())  # what zhuguan wrote elsewhere does not count
    assert draft.status == "approved"


def test_a_draft_that_runs_like_its_base_version_is_refused_at_review_and_deploy(draft, clock) -> None:  # type: ignore[no-untyped-def]
    # Add a task and delete it again in the modeler: the bytes differ, the model does not.
    text = studio.file_content(draft, BPMN)
    studio.save_file(draft.id, BPMN, text.replace("<bpmn:", "\n  <bpmn:"), actor="li", now=clock.now())
    assert studio.file_content(draft, BPMN) != text
    nothing = "runs exactly like v1, the version it started from, so there is nothing to deploy"
    with pytest.raises(Conflict, match=nothing):
        studio.request_review(draft.id, actor="li", now=clock.now())
    assert draft.status == "draft"
    draft.status, draft.approved_by = "approved", "wang"  # e.g. approved before this check existed
    with pytest.raises(Conflict, match=nothing):
        studio.deploy(draft.id, actor="li", now=clock.now())
    assert draft.deployed_version is None
    assert [v["version"] for v in studio_library.versions()] == [1]


def test_a_changed_form_alone_is_something_to_deploy(draft, clock) -> None:  # type: ignore[no-untyped-def]
    form = "bpmn/forms/leave.json"
    studio.save_file(draft.id, form, studio.file_content(draft, form).replace("{", "{ ", 1), actor="li", now=clock.now())
    with pytest.raises(Conflict, match="nothing to deploy"):
        studio.request_review(draft.id, actor="li", now=clock.now())
    data = json.loads(studio.file_content(draft, form))
    data["title"] = "Leave request (new)"
    studio.save_file(draft.id, form, json.dumps(data), actor="li", now=clock.now())
    assert studio.request_review(draft.id, actor="li", now=clock.now()).status == "in_review"


def test_library_lists_processes_with_versions_and_drafts(draft) -> None:  # type: ignore[no-untyped-def]
    library = studio_library.library()
    assert [p["name"] for p in library["processes"]] == ["leave_request"]
    assert library["processes"][0]["versions"][0]["deployed_by"] == "setup"
    assert db.session.execute(select(func.count()).select_from(StudioDraft)).scalar() == 1
