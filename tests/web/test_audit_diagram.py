"""An auditor steps through an instance's history on the diagram in a real browser."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.extensions import db
from app.models import User
from tests.support.complaints import ProcessDriver


def _instance_and_auditor(app: Flask) -> int:
    with app.app_context():
        clock = app.extensions["kesu.runtime"].clock
        driver = ProcessDriver(app, clock)
        try:
            instance_id = driver.start()
            driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好"}, actor="xiaowang")
        finally:
            driver.restore()
        user = User(username="shenji", display_name="沈稽", roles=["auditor"], groups=[], created_at=clock.now())
        user.set_password("kesu-demo")
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    return instance_id


def _marked(page, cls: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(page.eval_on_selector_all(f"g.djs-element.{cls}", "els => els.map(e => e.dataset.elementId)"))


def test_auditor_steps_through_the_history_on_the_diagram(committed_app, live_server, page,
                                                          tmp_path: Path) -> None:
    instance_id = _instance_and_auditor(committed_app)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "shenji")
    page.fill("input[name=password]", "kesu-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/audit/instances/{instance_id}/diagram")
    page.wait_for_selector("#audit-diagram[data-ready='1']")
    page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    assert "confirm_resolution" in _marked(page, "step-current")
    assert "handle" in _marked(page, "step-done")
    page.click("#step-first")
    page.wait_for_selector("#audit-diagram[data-step='1']")
    assert _marked(page, "step-done") == set() and "handle" not in _marked(page, "step-current")
    while "handle" not in _marked(page, "step-current"):
        before = page.get_attribute("#audit-diagram", "data-step")
        page.click("#step-next")
        page.wait_for_selector(f"#audit-diagram:not([data-step='{before}'])")
    assert "handle" not in _marked(page, "step-done") and "classify_complaint" in _marked(page, "step-done")
    assert '"stage": "tier1"' in page.inner_text("#step-data")
    page.screenshot(path=str(tmp_path / "handle.png"), full_page=True)
    Path("/tmp/audit-shots").mkdir(exist_ok=True)
    for name in ("last.png", "handle.png"):
        (Path("/tmp/audit-shots") / name).write_bytes((tmp_path / name).read_bytes())
