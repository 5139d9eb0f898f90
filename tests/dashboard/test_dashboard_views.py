"""The dashboard pages: who may see what, the JSON endpoint, bad input, the weekly review and its downloads."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import weekly_review
from tests.dashboard.conftest import Seeder, sign_in, utc

H = timedelta(hours=1)
WEEK = weekly_review.Week(2025, 50)  # Monday 8 to Sunday 14 December 2025


@pytest.fixture
def week_data(seeder: Seeder) -> Seeder:
    """Week 50: 6 quality complaints each refunded ¥19.90 automatically, late deliveries missing their SLA."""
    for i in range(6):
        complaint = seeder.complaint(utc(2025, 12, 8, 2) + timedelta(hours=7 * i), response=H, resolution=3 * H,
                                     text=f"杯子裂了 {i}")
        seeder.refund(complaint, "19.90")
    for i in range(4):
        seeder.complaint(utc(2025, 12, 9, 2) + timedelta(hours=5 * i), category="delivery.late",
                         group="tier1-logistics", response=3 * H, resolution=(30 + i) * H, csat=2, satisfied=False)
    seeder.complaint(utc(2025, 12, 10, 2), category="delivery.late", group="tier1-logistics", response=H,
                     resolution=5 * H, csat=3, satisfied=True)
    seeder.complaint(utc(2025, 12, 11, 2), category="order.price", group="tier1-billing")  # open, overdue by now
    for i in range(2):  # the week before
        seeder.complaint(utc(2025, 12, 2, 2) + timedelta(days=i), category="delivery.late", group="tier1-logistics",
                         response=H, resolution=2 * H)
    db.session.commit()
    return seeder


def test_pages_need_a_dashboard_role(client: Any, make_staff: Any) -> None:
    assert client.get("/dashboard").status_code == 302  # to the sign-in page
    make_staff("agent1", ["agent"])
    sign_in(client, "agent1")
    for url in ("/dashboard", "/dashboard/data", "/dashboard/weekly", "/dashboard/weekly.md"):
        assert client.get(url).status_code == 403, url


def test_supervisor_gets_every_chart(client: Any, make_staff: Any, week_data: Seeder) -> None:
    make_staff("boss", ["supervisor"])
    sign_in(client, "boss")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="chart-trend"' in page and 'id="chart-refunds"' in page and "echarts.min.js" in page
    data = client.get("/dashboard/data?start=2025-12-08&end=2025-12-14&granularity=week").get_json()
    assert data["trend"] == [{"period": "2025-12-08", "complaints": 12}]
    assert data["refunds"]["automatic"] == {"count": 6, "amount": 119.4}
    assert set(data) == {"filter", "trend", "categories", "times", "sla", "satisfaction", "products", "regions",
                         "refunds"}


def test_finance_sees_only_the_refund_panel(client: Any, make_staff: Any, week_data: Seeder) -> None:
    make_staff("money", ["finance"])
    sign_in(client, "money")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="chart-refunds"' in page and 'id="chart-trend"' not in page
    data = client.get("/dashboard/data?start=2025-12-08&end=2025-12-14").get_json()
    assert set(data) == {"filter", "refunds"} and data["refunds"]["count"] == 6
    assert client.get("/dashboard/weekly").status_code == 403


def test_a_bad_filter_is_a_422_naming_the_field(client: Any, make_staff: Any) -> None:
    make_staff("boss", ["supervisor"])
    sign_in(client, "boss")
    response = client.get("/dashboard/data?start=2026-01-09&end=2026-01-01")
    assert response.status_code == 422
    assert "end" in {e["field"] for e in response.get_json()["errors"]}
    assert "end date is before the start" in response.get_json()["detail"]
    assert client.get("/dashboard/data?granularity=year").status_code == 422


def test_weekly_review_names_causes_misses_and_suggestions(week_data: Seeder, clock: Any) -> None:
    review = weekly_review.build_review(WEEK, now=clock.now())
    counts = dict(db.session.execute(text(
        "SELECT case_category, count(*) FROM complaint WHERE created_day BETWEEN :s AND :e GROUP BY case_category"),
        {"s": date(2025, 12, 8), "e": date(2025, 12, 14)}).all())
    assert [(c["category"], c["count"]) for c in review.causes] == [
        ("product.quality", counts["product.quality"]), ("delivery.late", 5), ("order.price", 1)]
    assert review.causes[1]["previous"] == 2 and review.causes[1]["change"] == 1.5
    assert [e["text"] for e in review.causes[0]["examples"]] == ["杯子裂了 0", "杯子裂了 1", "杯子裂了 2"]
    logistics = next(r for r in review.sla if r["group"] == "tier1-logistics")
    assert (logistics["resolution_met"], logistics["resolution_missed"]) == (1, 4)
    assert review.worst_cases[0]["group"] == "tier1-billing" and review.worst_cases[0]["open"]
    rules = {s["rule"]: s for s in review.suggestions}
    assert set(rules) == {"auto_refund_limit", "sla_reroute", "low_csat"}
    assert rules["low_csat"]["evidence"] == "average CSAT 2.20 over 5 ratings (threshold 3.5)"
    assert rules["auto_refund_limit"]["evidence"] == "6 of 6 refunds under ¥50 were automatic"
    assert rules["sla_reroute"]["evidence"] == "4 of 5 resolutions missed the SLA"


def test_suggestions_stay_quiet_below_their_thresholds(seeder: Seeder, clock: Any) -> None:
    for i in range(4):  # 4 automatic small refunds and 4 late resolutions: fewer than 5 cases each
        complaint = seeder.complaint(utc(2025, 12, 8, 2) + timedelta(hours=i), category="delivery.late",
                                     group="tier1-logistics", response=H, resolution=30 * H, csat=1, satisfied=False)
        seeder.refund(complaint, "9.90")
    db.session.commit()
    assert weekly_review.build_review(WEEK, now=clock.now()).suggestions == []


def test_weekly_page_downloads_and_bad_week(client: Any, make_staff: Any, week_data: Seeder) -> None:
    make_staff("ana", ["analyst"])
    sign_in(client, "ana")
    page = client.get("/dashboard/weekly?week=2025-W50").get_data(as_text=True)
    assert "2025-W50" in page and "质量问题" in page and "6 of 6 refunds under ¥50 were automatic" in page
    markdown = client.get("/dashboard/weekly.md?week=2025-W50")
    assert markdown.headers["Content-Disposition"] == 'attachment; filename="weekly-review-2025-W50.md"'
    assert "## Top causes" in markdown.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/weekly.csv?week=2025-W50").get_data(as_text=True))))
    assert ["cause", "product.quality", "count", "6"] in rows
    assert client.get("/dashboard/weekly.pdf?week=2025-W50").status_code == 404
    refused = client.get("/dashboard/weekly?week=2025-50")
    assert refused.status_code == 422 and "2026-W47" in refused.get_data(as_text=True)


def test_weekly_cli_writes_the_file(cli_runner: Any, week_data: Seeder, tmp_path: Path) -> None:
    out = tmp_path / "review.md"
    result = cli_runner.invoke(args=["dashboard", "weekly", "--week", "2025-W50", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# 周报 Weekly review 2025-W50")
    result = cli_runner.invoke(args=["dashboard", "weekly", "--week", "2025-W50", "--out", str(tmp_path / "r.csv")])
    assert "section,item,figure,value" in (tmp_path / "r.csv").read_text(encoding="utf-8")
    bad = cli_runner.invoke(args=["dashboard", "weekly", "--week", "W50"])
    assert bad.exit_code == 2 and "2026-W47" in bad.output
