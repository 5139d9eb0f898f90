"""The landing page and health check answer, on each database."""
from __future__ import annotations

from tests.support.deploy import deploy_engine_files


def test_health_answers_ok(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_index_shows_what_is_deployed(app, client, clock) -> None:
    deploy_engine_files(app, clock.now())
    page = client.get("/").get_data(as_text=True)
    assert "latest: v1 (complaint_engine)" in page


def test_unknown_page_is_a_404(client) -> None:
    assert client.get("/no-such-page").status_code == 404
