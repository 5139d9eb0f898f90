"""The landing page and health check answer, on each database."""
from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import User
from tests.support.deploy import deploy_engine_files
from tests.support.studio import sign_in


def test_health_answers_ok(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_signed_in_staff_see_what_is_deployed_and_the_counts(app, client, clock) -> None:
    deploy_engine_files(app, clock.now())
    _add_staff(clock.now())
    sign_in(client, "zhang")
    page = client.get("/").get_data(as_text=True)
    assert "latest: v1 (complaint_engine)" in page
    assert "process instance(s)" in page and "open task(s)" in page and "queued job(s)" in page
    assert 'href="/tasks' in page  # the staff member's own sections


def test_signed_out_visitors_get_the_two_doors_and_no_counts(app, client, clock) -> None:
    deploy_engine_files(app, clock.now())
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="staff-door" href="/login"' in page and 'id="customer-door" href="/account/login"' in page
    for hidden in ("latest: v1", "deployed version(s)", "process instance(s)", "open task(s)", "queued job(s)"):
        assert hidden not in page


def test_unknown_page_is_a_404(client) -> None:
    assert client.get("/no-such-page").status_code == 404


def _add_staff(now: datetime) -> None:
    user = User(username="zhang", display_name="张客服", roles=["agent"], groups=[], created_at=now)
    user.set_password("kesu-demo")
    db.session.add(user)
    db.session.flush()


def test_staff_summary_counts_open_staff_tasks_not_the_customers_own(driver, client, make_staff) -> None:
    first, second = driver.start(complaint_id="C-summary-1"), driver.start(complaint_id="C-summary-2")
    staff_open = len(driver.open_tasks(first)) + len(driver.open_tasks(second))
    assert staff_open >= 2
    driver.open_tasks(second)[0].candidate_group = "customer"  # as the 72 h confirmation task is
    db.session.commit()
    make_staff("lead", ["supervisor"])
    sign_in(client, "lead")
    page = client.get("/").get_data(as_text=True)
    assert f'<span class="figure">{staff_open - 1}</span> open task(s)' in page
