"""An analyst edits a process in the studio in a real browser; a second analyst approves and deploys.

The browser asks for Chinese (the default language); the last step switches the page to English."""
from __future__ import annotations

from app.services.uow import run_command
from tests.support.studio import add_analysts, browser_sign_in, deploy_leave, needs_vendor

pytestmark = needs_vendor


def _set(page, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    page.fill(f"#panel input[name={name}]", value)
    page.press(f"#panel input[name={name}]", "Tab")


def test_analyst_edits_validates_and_a_second_analyst_deploys(committed_app, live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with committed_app.app_context():
        now = committed_app.extensions["kesu.runtime"].clock.now()
        run_command(lambda: (add_analysts(now), deploy_leave(now)))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None)
    browser_sign_in(page, live_server, "li")
    page.goto(f"{live_server}/studio")
    page.fill("input[name=name]", "second check")
    assert page.inner_text("#create-draft") == "创建草稿"
    page.click("#create-draft")
    page.click("text=bpmn/leave_request.bpmn")
    page.wait_for_selector("#studio-editor[data-ready=true]")
    page.click(".djs-element[data-element-id=done]")
    page.click(".djs-context-pad [data-action='delete']")
    page.click(".djs-element[data-element-id=review]")
    page.click(".djs-context-pad [data-action='append.append-task']")
    page.keyboard.press("Escape")
    page.click(".djs-context-pad [data-action='replace']")
    page.click("[data-id='replace-with-user-task']")
    page.wait_for_selector("#panel select[name=candidateGroups]")
    new_task = page.eval_on_selector(".djs-element.selected", "e => e.dataset.elementId")
    page.click(".djs-context-pad [data-action='append.end-event']")
    page.keyboard.press("Escape")
    page.click(f".djs-element[data-element-id='{new_task}']")
    _set(page, "candidateGroupsExpression", "group +")
    page.click("#save")
    problem = page.wait_for_selector(f"#problems li[data-element-id='{new_task}']")
    assert f"[{new_task}] 第 " in problem.inner_text(), "the problem names the element and its line"
    assert "candidate group expression `group +` refused: syntax error" in problem.inner_text()
    page.click(".djs-container", position={"x": 5, "y": 5})
    problem.click()
    assert "kesu-focus" in page.get_attribute(f".djs-element[data-element-id='{new_task}']", "class")
    _set(page, "candidateGroupsExpression", "")
    page.select_option("#panel select[name=candidateGroups]", "supervisors")
    page.click("#save")
    page.wait_for_selector("#problems li.ok")
    assert page.inner_text("#problems li.ok") == "没有问题：可以提交审核并部署。", "the script's words are Chinese"
    assert page.inner_text("#save-status") == "已保存；0 个问题。"
    page.screenshot(path=str(tmp_path / "studio-modeler.png"), full_page=True)
    page.click("text=← second check")
    page.click("#request_review")
    page.wait_for_selector(".status-in_review")
    page.click("text=Sign out")
    browser_sign_in(page, live_server, "wang")
    page.goto(f"{live_server}/studio")
    page.click("text=second check")
    page.click("#approve")
    page.click("#deploy")
    assert "已部署为新版本" in page.inner_text(".flash")
    assert "已部署为 v2。" in page.content()
    page.click("button[name=lang][value=en]")
    page.wait_for_selector("#migration-check:text('Migration check for v2')")
    assert "Deployed as v2." in page.content() and page.inner_text(".status") == "deployed"
    assert errors == [], errors
