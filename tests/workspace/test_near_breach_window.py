"""The supervisor view's near-breach window: SLA_NEAR_BREACH_MINUTES by default, 15 min / 1 h / 4 h
on the page, anything else refused with the windows to choose from."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.workspace.conftest import sign_in


def _sections(page: str) -> dict[str, str]:
    """Return the page's panels by their heading's first words."""
    panels = page.split('<section class="panel">')[1:]
    return {panel.split("<h2>", 1)[1].split("(", 1)[0].strip(): panel for panel in panels}


@pytest.fixture
def due_in_half_an_hour(driver, make_staff, clock, client):  # type: ignore[no-untyped-def]
    task = driver.task(driver.start(), "handle")
    make_staff("zhuguan", roles=["supervisor"], groups=["supervisors"])
    clock.set(task.due_at - timedelta(minutes=30))
    sign_in(client, "zhuguan")
    return task


def test_the_configured_window_is_the_default_and_the_page_offers_the_others(app, client, due_in_half_an_hour) -> None:
    task = due_in_half_an_hour
    link = f'href="/tasks/{task.task_id}"'
    page = client.get("/tasks/supervisor").get_data(as_text=True)
    assert app.config["SLA_NEAR_BREACH_MINUTES"] == 60
    assert link in _sections(page)["Near breach"] and "Near breach (1 h)" in page
    assert '<a href="/tasks/supervisor?near=60" class="active" aria-current="page">1 h</a>' in page
    assert 'href="/tasks/supervisor?near=15">15 min</a>' in page and 'href="/tasks/supervisor?near=240">4 h</a>' in page

    page = client.get("/tasks/supervisor?near=15").get_data(as_text=True)
    assert "Near breach (15 min)" in page and link not in _sections(page)["Near breach"]
    page = client.get("/tasks/supervisor?near=240").get_data(as_text=True)
    assert "Near breach (4 h)" in page and link in _sections(page)["Near breach"]
    assert link not in _sections(page)["SLA breaches 已超时"]


def test_a_configured_window_is_offered_too(app, client, monkeypatch, due_in_half_an_hour) -> None:
    monkeypatch.setitem(app.config, "SLA_NEAR_BREACH_MINUTES", 20)
    link = f'href="/tasks/{due_in_half_an_hour.task_id}"'
    page = client.get("/tasks/supervisor").get_data(as_text=True)
    assert "Near breach (20 min)" in page and link not in _sections(page)["Near breach"]
    assert [w for w in (15, 20, 60, 240) if f"?near={w}" in page] == [15, 20, 60, 240]
    assert client.get("/tasks/supervisor?near=20").status_code == 200


@pytest.mark.parametrize("wrong", ["7", "abc", "-15", "60.5"])
def test_another_window_is_refused_with_the_choices(client, due_in_half_an_hour, wrong) -> None:
    answer = client.get(f"/tasks/supervisor?near={wrong}")
    assert answer.status_code == 422
    assert "choose one of 15, 60, 240 minutes" in answer.get_data(as_text=True)


def test_agents_do_not_see_the_supervisor_view(driver, make_staff, client) -> None:
    task = driver.task(driver.start(), "handle")
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    answer = client.get("/tasks/supervisor?near=240")
    assert answer.status_code == 403 and task.task_id not in answer.get_data(as_text=True)
