"""In a real browser: a test run draws its path on the diagram step by step; a diff colours changed elements."""
from __future__ import annotations

from app.services import studio
from app.services.uow import run_command
from tests.support.studio import DATA, add_analysts, browser_sign_in, deploy_leave, make_draft, needs_vendor

pytestmark = needs_vendor


def _classes(page, element_id: str) -> str:  # type: ignore[no-untyped-def]
    return page.get_attribute(f"#canvas .djs-element[data-element-id='{element_id}']", "class") or ""


def test_a_test_run_draws_its_path_step_by_step(committed_app, live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        files = {"bpmn/pay.bpmn": (DATA / "trial_errors.bpmn").read_text(encoding="utf-8")}
        draft_id = run_command(lambda: (add_analysts(now), make_draft(files, now, name="try refunds"))[1].id)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None)
    browser_sign_in(page, live_server, "li")
    page.goto(f"{live_server}/studio/drafts/{draft_id}/edit?path=bpmn/pay.bpmn")
    page.wait_for_selector("#studio-editor[data-ready=true]")
    page.click("#trial-open")
    page.wait_for_selector(".trial-service[data-element-id=pay]")
    assert '"amount": null' in page.input_value("#trial-start")  # what the process reads and no step sets
    page.fill("#trial-start", '{"amount": 10}')
    page.fill(".trial-service[data-element-id=pay] textarea[name=result]", '{"paid": 10, "refund_id": "R-7"}')
    page.click("#trial-run")
    page.wait_for_selector("#trial-steps li:nth-child(4)")
    assert page.get_attribute("#test-run", "data-status") == "completed"
    assert page.inner_text("#trial-status").startswith("结果：已完成 · "), "the browser asks for Chinese"
    assert page.inner_text("#trial-position").startswith("第 1 / ")
    assert "kesu-trial-current" in _classes(page, "start")
    assert "kesu-trial-path" not in _classes(page, "pay")  # only the steps so far are drawn
    page.click("#trial-next")
    assert "kesu-trial-current" in _classes(page, "pay") and "kesu-trial-path" in _classes(page, "f_start")
    assert "R-7" in page.inner_text("#trial-diff") and "refund_id" in page.inner_text("#trial-data")
    page.click("#trial-next")
    page.click("#trial-next")
    assert "kesu-trial-current" in _classes(page, "end_full") and page.is_disabled("#trial-next")
    assert "kesu-trial-path" in _classes(page, "gw_paid") and "kesu-trial-path" in _classes(page, "f_full")
    assert "kesu-trial-path" not in _classes(page, "f_partial")  # the branch not taken stays plain
    assert page.locator(".kesu-step-badge").count() == 4
    page.click("#trial-prev")
    assert "kesu-trial-current" in _classes(page, "gw_paid") and "kesu-trial-current" not in _classes(page, "end_full")
    page.screenshot(path=str(tmp_path / "studio-test-run.png"), full_page=True)
    # a BPMN error answer takes the boundary path
    page.select_option(".trial-service[data-element-id=pay] select[name=kind]", "error")
    page.fill(".trial-service[data-element-id=pay] input[name=error]", "declined")
    page.click("#trial-run")
    page.wait_for_selector("#trial-steps li[data-element-id=declined]")
    for _ in range(3):
        page.click("#trial-next")
    assert "kesu-trial-current" in _classes(page, "end_declined") and "kesu-trial-path" in _classes(page, "declined")
    assert errors == [], errors


def test_a_diff_colours_changed_elements_on_the_diagram(committed_app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()

        def prepare() -> int:
            add_analysts(now)
            deploy_leave(now)
            draft = studio.create_draft("rename", base_version=1, actor="li", now=now)
            path = "bpmn/leave_request.bpmn"
            studio.save_file(draft.id, path, studio.file_content(draft, path).replace('name="Review"', 'name="Check"'),
                             actor="li", now=now)
            return draft.id
        draft_id = run_command(prepare)
    browser_sign_in(page, live_server, "li")
    page.goto(f"{live_server}/studio/drafts/{draft_id}")
    page.click("#diff-base")
    page.wait_for_selector("#studio-diff[data-ready=true]")
    new = page.get_attribute(".diff-canvas[data-side=new] .djs-element[data-element-id=review]", "class") or ""
    assert "kesu-diff-changed" in new
    assert "kesu-diff-changed" in (page.get_attribute(".diff-canvas[data-side=old] .djs-element[data-element-id=review]",
                                                      "class") or "")
    assert "kesu-diff" not in (page.get_attribute(".diff-canvas[data-side=new] .djs-element[data-element-id=done]",
                                                  "class") or "")


def test_a_decision_table_test_run_marks_the_matching_rows(committed_app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        dmn = {"rules/priority.dmn": (DATA.parent / "engine" / "priority.dmn").read_text(encoding="utf-8")}
        draft_id = run_command(lambda: (add_analysts(now), make_draft(dmn, now, name="priority rows"))[1].id)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, live_server, "li")
    page.goto(f"{live_server}/studio/drafts/{draft_id}/edit?path=rules/priority.dmn")
    page.wait_for_selector("#studio-editor[data-ready=true]")
    page.click("#trial-open")
    page.wait_for_selector("#trial-decision option[value=priority]", state="attached")
    page.fill("#trial-start", '{"angry": false, "amount": 700}')
    page.click("#trial-run")
    page.wait_for_selector("#trial-rows tr.matched")
    matched = page.locator("#trial-rows tr.matched")
    assert [matched.nth(i).get_attribute("data-rule-id") for i in range(matched.count())] == ["r_big", "r_rest"]
    assert '"priority": "medium"' in page.inner_text("#trial-decision-result")
    assert errors == [], errors
