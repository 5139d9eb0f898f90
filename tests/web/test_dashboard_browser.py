"""The dashboard in a real browser: charts drawn from /dashboard/data, the numbers under them match the
database, and a filter redraws them with other figures."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from app.extensions import db
from app.models import User
from app.services import dashboard
from app.services.demo_history import load_demo_history
from app.services.uow import run_command

PASSWORD = "kesu-demo"
RANGE = dashboard.DashboardFilter(date(2025, 11, 20), date(2026, 1, 5))


def _setup(app: Flask) -> None:
    clock = app.extensions["kesu.runtime"].clock

    def add() -> None:
        load_demo_history(now=clock.now(), count=150)
        boss = User(username="zhuguan", display_name="赵主管", roles=["supervisor"], groups=[], created_at=clock.now())
        boss.set_password(PASSWORD)
        db.session.add(boss)
    run_command(add)


def _expected(app: Flask, f: dashboard.DashboardFilter) -> dict[str, Any]:
    with app.app_context():
        figures = {"trend": [[r["period"], str(r["complaints"])] for r in dashboard.volume_trend(f, "week")],
                   "products": [[r["name"], str(r["complaints"])] for r in dashboard.top_products(f)],
                   "refunds": str(dashboard.refunds(f)["count"])}
        db.session.remove()
    return figures


def _table(page: Any, name: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"#table-{name} tbody tr",
                                     "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))")


def _wait_for(page: Any, query: str) -> None:
    page.wait_for_function("q => document.getElementById('dash-status').dataset.loaded === q", arg=query)


def test_dashboard_draws_charts_whose_numbers_match_and_filters_redraw(committed_app, live_server, page) -> None:
    with committed_app.app_context():
        _setup(committed_app)
        db.session.remove()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "zhuguan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/dashboard?start=2025-11-20&end=2026-01-05&granularity=week")
    _wait_for(page, "start=2025-11-20&end=2026-01-05&granularity=week")
    assert page.locator(".dash-panel .chart canvas").count() == 8  # every chart drew on a canvas
    everything = _expected(committed_app, RANGE)
    assert _table(page, "trend") == everything["trend"]
    assert _table(page, "products") == everything["products"]
    assert _table(page, "refunds")[0] == ["Refunds 退款笔数", everything["refunds"]]

    page.select_option("select[name=category]", "delivery")
    page.click("#dash-filters button[type=submit]")
    _wait_for(page, "start=2025-11-20&end=2026-01-05&category=delivery&granularity=week")
    delivery = _expected(committed_app, dashboard.DashboardFilter(RANGE.start, RANGE.end, category="delivery"))
    assert _table(page, "trend") == delivery["trend"] != everything["trend"]
    assert _table(page, "products") == delivery["products"]
    assert "category=delivery" in page.url

    page.fill("input[name=start]", "2026-02-01")
    page.click("#dash-filters button[type=submit]")
    page.wait_for_selector("#dash-status.error")
    assert "end date is before the start" in page.inner_text("#dash-status")
