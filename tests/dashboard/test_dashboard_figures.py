"""Every dashboard figure against a direct SQL query written here, on seeded complaints and refunds.

The queries below compute the shop day from ``created_at`` themselves (Asia/Shanghai is UTC+8),
so they also check the day each complaint was filed under; they share nothing with
app/services/dashboard.py beyond the table names.
"""
from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import complaint_facts, dashboard
from app.services.dashboard import DashboardFilter
from tests.dashboard.conftest import Seeder, utc

H = timedelta(hours=1)
START, END = date(2025, 12, 1), date(2026, 1, 5)


def _day(column: str) -> str:
    if db.session.get_bind().dialect.name == "sqlite":
        return f"date({column}, '+8 hours')"
    return f"(({column}) AT TIME ZONE 'Asia/Shanghai')::date"


def _family(column: str) -> str:
    if db.session.get_bind().dialect.name == "sqlite":
        return (f"CASE WHEN instr({column}, '.') > 0 THEN substr({column}, 1, instr({column}, '.') - 1) "
                f"ELSE {column} END")
    return f"split_part({column}, '.', 1)"


def _where(f: DashboardFilter, alias: str = "c") -> tuple[str, dict[str, Any]]:
    clauses = [f"{_day(alias + '.created_at')} >= :start", f"{_day(alias + '.created_at')} <= :end"]
    params: dict[str, Any] = {"start": f.start, "end": f.end}
    if f.category:
        clauses.append(f"({alias}.case_category = :category OR {_family(alias + '.case_category')} = :category)")
        params["category"] = f.category
    if f.group:
        clauses.append(f"{alias}.handling_group = :grp")
        params["grp"] = f.group
    if f.channel:
        clauses.append(f"{alias}.channel = :channel")
        params["channel"] = f.channel
    return " AND ".join(clauses), params


def _rows(sql: str, params: dict[str, Any]) -> list[Any]:
    return list(db.session.execute(text(sql), params))


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@pytest.fixture
def seeded(seeder: Seeder, clock: Any) -> Seeder:
    """Complaints across a month and a half, every dimension varied, with day-boundary and open cases."""
    s = seeder
    # the shop day turns at 16:00 UTC: 15:59:59 is still 1 January in Shanghai, 16:00:00 is 2 January
    s.complaint(utc(2026, 1, 1, 15, 59, 59), response=H, resolution=5 * H, csat=5, satisfied=True)
    s.complaint(utc(2026, 1, 1, 16, 0, 0), category="delivery.late", group="tier1-logistics", channel="app",
                product="空气炸锅", region="北京", response=3 * H, resolution=30 * H, csat=2, satisfied=False)
    s.complaint(utc(2025, 11, 30, 15, 59), category="order.payment", group="tier1-billing")  # 30 Nov: outside
    s.complaint(utc(2025, 11, 30, 16, 0), category="order.payment", group="tier1-billing", response=H / 2,
                resolution=2 * H)  # 1 Dec in Shanghai: inside
    for i in range(24):
        category = ["product.quality", "product.not_as_described", "delivery.damaged", "order.price",
                    "service.attitude", "other"][i % 6]
        group = {"product": "tier1-product", "delivery": "tier1-logistics", "order": "tier1-billing",
                 "service": "supervisors", "other": None}[category.split(".")[0]]
        created = utc(2025, 12, 2, 3) + timedelta(days=i, hours=i % 5)
        s.complaint(created, category=category, group=group, channel="app" if i % 3 == 0 else "web",
                    product=["陶瓷杯", "无线耳机", "有机苹果 5kg", "空气炸锅"][i % 4],
                    region=["上海", "北京", "广东", None][i % 4],
                    response=(i % 7 + 1) * 0.5 * H if i % 8 else None,
                    resolution=(i % 9 + 1) * 4 * H if i % 4 else None,
                    csat=(i % 5) + 1 if i % 4 == 1 else None, satisfied=(i % 5) >= 2 if i % 4 == 1 else None,
                    confirm_after=80 * H if i == 5 else None)  # confirmed after 80 h: satisfied, but late
    # still open today: one past its response deadline, one not yet due
    s.complaint(clock.now() - 5 * H, category="delivery.late", group="tier1-logistics", response_sla=2 * H)
    s.complaint(clock.now() - H, category="delivery.late", group="tier1-logistics", response_sla=2 * H)
    complaints = db.session.execute(text("SELECT id FROM complaint ORDER BY id")).scalars().all()
    from app.models.complaint import Complaint
    first, second, *_ = [db.session.get(Complaint, cid) for cid in complaints]
    s.refund(first, "25.00")
    s.refund(first, "12.50", state="failed")
    s.refund(second, "300.00", automatic=False, state="unknown")
    s.refund(second, "88.00", automatic=False, state="paid_manually", created_at=utc(2025, 11, 30, 15, 0))  # 30 Nov
    s.refund(None, "40.00", automatic=False, created_at=utc(2025, 12, 20, 2))  # a console refund, no complaint
    for cid in complaints[4:12]:
        s.refund(db.session.get(Complaint, cid), "19.90", automatic=cid % 2 == 0,
                 state="succeeded" if cid % 3 else "failed")
    db.session.commit()
    return s


FILTERS = [
    DashboardFilter(START, END),
    DashboardFilter(START, END, category="product"),
    DashboardFilter(START, END, category="delivery.late"),
    DashboardFilter(START, END, group="tier1-logistics"),
    DashboardFilter(START, END, channel="app"),
    DashboardFilter(date(2025, 12, 10), date(2025, 12, 20), category="order", channel="web"),
    DashboardFilter(date(2026, 1, 2), date(2026, 1, 2)),
    DashboardFilter(date(2024, 1, 1), date(2024, 1, 31)),  # empty
    DashboardFilter(date(2025, 11, 20), date(2026, 1, 3), category="product"),  # a whole month and two ends
    DashboardFilter(date(2025, 12, 1), date(2025, 12, 31), group="tier1-product"),  # exactly one month
]
IDS = ["all", "family", "code", "group", "channel", "combined", "one-day", "empty", "month-and-ends", "one-month"]


@pytest.fixture(params=["short", "long"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read p90 and top lists both ways: by day with a sort, and down the value-ordered indexes."""
    if request.param == "long":
        for name in ("LONG_RANGE", "P90_WALK_SHARE"):
            monkeypatch.setattr(dashboard, name, -1)
    return str(request.param)


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_trend_by_day_week_and_month_matches_sql(seeded: Seeder, f: DashboardFilter) -> None:
    where, params = _where(f)
    day = _day("c.created_at")
    expected = {_iso(d): n for d, n in _rows(f"SELECT {day} AS d, count(*) FROM complaint c WHERE {where} "
                                             f"GROUP BY {day}", params)}
    trend = dashboard.volume_trend(f, "day")
    assert [r["period"] for r in trend] == [(f.start + timedelta(days=i)).isoformat()
                                            for i in range((f.end - f.start).days + 1)]
    assert {r["period"]: r["complaints"] for r in trend if r["complaints"]} == expected
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    buckets = {"week": f"date({day}, 'weekday 0', '-6 days')" if sqlite else f"date_trunc('week', {day})::date",
               "month": f"strftime('%Y-%m-01', {day})" if sqlite else f"date_trunc('month', {day})::date"}
    for granularity, bucket in buckets.items():
        expected = {_iso(b)[:10]: n for b, n in _rows(f"SELECT {bucket} AS b, count(*) FROM complaint c "
                                                       f"WHERE {where} GROUP BY {bucket}", params)}
        got = {r["period"]: r["complaints"] for r in dashboard.volume_trend(f, granularity) if r["complaints"]}
        assert got == expected, granularity


def test_day_boundary_follows_the_shop_time_zone(seeded: Seeder) -> None:
    trend = {r["period"]: r["complaints"] for r in dashboard.volume_trend(DashboardFilter(date(2026, 1, 1),
                                                                                          date(2026, 1, 2)))}
    assert trend == {"2026-01-01": 1, "2026-01-02": 1}
    assert dashboard.volume_trend(DashboardFilter(date(2025, 11, 30), date(2025, 12, 1)))[0]["complaints"] == 1


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_category_share_matches_sql(seeded: Seeder, f: DashboardFilter) -> None:
    where, params = _where(f)
    level2 = {c: n for c, n in _rows(f"SELECT c.case_category, count(*) FROM complaint c WHERE {where} "
                                     f"GROUP BY c.case_category", params)}
    family = _family("c.case_category")
    level1 = {c: n for c, n in _rows(f"SELECT {family}, count(*) FROM complaint c WHERE {where} GROUP BY {family}",
                                     params)}
    share = dashboard.category_share(f)
    assert {r["code"]: r["count"] for r in share["level2"]} == level2
    assert {r["code"]: r["count"] for r in share["level1"]} == level1
    assert [r["count"] for r in share["level1"]] == sorted(level1.values(), reverse=True)


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_response_and_resolution_times_match_sql(seeded: Seeder, f: DashboardFilter, reading: str) -> None:
    where, params = _where(f)
    times = dashboard.response_times(f)
    for name, column in (("first_response", "response_seconds"), ("resolution", "resolution_seconds")):
        count, average = _rows(f"SELECT count(c.{column}), avg(c.{column}) FROM complaint c WHERE {where}",
                               params)[0]
        p90 = _rows(f"SELECT min(v) FROM (SELECT c.{column} AS v, row_number() OVER (ORDER BY c.{column}) AS rn, "
                    f"count(*) OVER () AS n FROM complaint c WHERE {where} AND c.{column} IS NOT NULL) ranked "
                    f"WHERE rn >= 0.9 * n", params)[0][0]
        assert times[name]["count"] == count
        assert times[name]["p90_seconds"] == p90
        if count:
            assert times[name]["avg_seconds"] == pytest.approx(float(average), abs=0.05)
        else:
            assert times[name]["avg_seconds"] is None


def test_p90_is_the_nearest_rank(seeded: Seeder, reading: str) -> None:
    values = sorted(v for (v,) in _rows("SELECT resolution_seconds FROM complaint WHERE resolution_seconds "
                                        "IS NOT NULL", {}))
    everything = DashboardFilter(date(2025, 11, 1), date(2026, 1, 31))
    assert dashboard.response_times(everything)["resolution"]["p90_seconds"] == values[math.ceil(0.9 * len(values)) - 1]


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_sla_per_group_matches_sql(seeded: Seeder, f: DashboardFilter, clock: Any) -> None:
    where, params = _where(f)
    params["now"] = clock.now()
    rows = _rows(
        "SELECT coalesce(c.handling_group, ''), "
        "sum(CASE WHEN c.first_response_at <= c.response_due_at THEN 1 ELSE 0 END), "
        "sum(CASE WHEN c.first_response_at > c.response_due_at OR (c.first_response_at IS NULL "
        "AND c.response_due_at < :now) THEN 1 ELSE 0 END), "
        "sum(CASE WHEN c.resolved_at <= c.resolution_due_at THEN 1 ELSE 0 END), "
        "sum(CASE WHEN c.resolved_at > c.resolution_due_at OR (c.resolved_at IS NULL "
        f"AND c.resolution_due_at < :now) THEN 1 ELSE 0 END) FROM complaint c WHERE {where} "
        "GROUP BY coalesce(c.handling_group, '')", params)
    expected = {(g or "未分配"): (rm, rx, sm, sx) for g, rm, rx, sm, sx in rows if rm + rx + sm + sx}
    got = {r["group"]: (r["response_met"], r["response_missed"], r["resolution_met"], r["resolution_missed"])
           for r in dashboard.sla_by_group(f, now=clock.now())}
    assert got == expected
    for row in dashboard.sla_by_group(f, now=clock.now()):
        decided = row["response_met"] + row["response_missed"]
        assert row["response_compliance"] == (round(row["response_met"] / decided, 4) if decided else None)


def test_an_overdue_open_complaint_counts_as_missed_until_answered(seeded: Seeder, clock: Any) -> None:
    today = DashboardFilter(date(2026, 1, 5), date(2026, 1, 5), group="tier1-logistics")
    [row] = dashboard.sla_by_group(today, now=clock.now())
    assert (row["response_met"], row["response_missed"]) == (0, 1)  # the other one is not due yet


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_satisfaction_matches_sql(seeded: Seeder, f: DashboardFilter) -> None:
    where, params = _where(f)
    within = ("julianday(c.confirmed_at) <= julianday(c.resolved_at) + 3"
              if db.session.get_bind().dialect.name == "sqlite"
              else "c.confirmed_at <= c.resolved_at + interval '72 hours'")
    rated, average, resolved, satisfied = _rows(
        f"SELECT count(c.csat), avg(c.csat), count(c.resolved_at), "
        f"sum(CASE WHEN c.satisfied AND {within} THEN 1 ELSE 0 END) FROM complaint c WHERE {where}", params)[0]
    got = dashboard.satisfaction(f)
    assert (got["rated"], got["resolved"], got["satisfied_72h"]) == (rated, resolved, satisfied or 0)
    assert got["csat_avg"] == (pytest.approx(float(average), abs=0.0005) if rated else None)
    assert got["satisfied_72h_share"] == (round((satisfied or 0) / resolved, 4) if resolved else None)


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_refunds_match_sql(seeded: Seeder, f: DashboardFilter) -> None:
    where, params = _where(f)
    day = _day("r.created_at")
    if f.category or f.group or f.channel:
        dims = where.split(" AND ", 2)[2]
        source = f"refund r JOIN complaint c ON r.complaint_id = 'C-' || CAST(c.id AS VARCHAR(20)) AND {dims}"
    else:
        source = "refund r"
    rows = _rows(f"SELECT r.requested_by = 'system', r.state, count(*), sum(r.amount) FROM {source} "
                 f"WHERE {day} >= :start AND {day} <= :end GROUP BY r.requested_by = 'system', r.state", params)
    got = dashboard.refunds(f)
    assert got["count"] == sum(r[2] for r in rows)
    assert got["amount"] == pytest.approx(float(sum(r[3] for r in rows) or 0))
    assert got["automatic"]["count"] == sum(r[2] for r in rows if r[0])
    assert got["approved"]["amount"] == pytest.approx(float(sum(r[3] for r in rows if not r[0]) or 0))
    assert got["failed"] == sum(r[2] for r in rows if r[1] == "failed")
    assert got["unknown"] == sum(r[2] for r in rows if r[1] == "unknown")
    assert got["paid_amount"] == pytest.approx(float(sum(r[3] for r in rows
                                                         if r[1] in ("succeeded", "paid_manually", "reconciled"))
                                                     or 0))


def test_refund_figures_on_known_values(seeded: Seeder) -> None:
    got = dashboard.refunds(DashboardFilter(date(2026, 1, 1), date(2026, 1, 2)))
    assert (got["count"], got["amount"], got["failed"], got["unknown"]) == (3, 337.5, 1, 1)
    assert got["automatic"] == {"count": 2, "amount": 37.5}


@pytest.mark.parametrize("f", FILTERS, ids=IDS)
def test_top_products_and_regions_match_sql(seeded: Seeder, f: DashboardFilter, reading: str) -> None:
    where, params = _where(f)
    for column, figure in (("product", dashboard.top_products), ("region", dashboard.top_regions)):
        expected = [{"name": name, "complaints": n} for name, n in _rows(
            f"SELECT c.{column}, count(*) AS n FROM complaint c WHERE {where} AND c.{column} IS NOT NULL "
            f"GROUP BY c.{column} ORDER BY n DESC, c.{column} LIMIT 10", params)]
        assert figure(f) == expected


def test_rollup_equals_a_group_by_over_complaints_and_a_rebuild(seeded: Seeder) -> None:
    def rollup() -> dict[tuple[str, ...], tuple[int, ...]]:
        return {(_iso(d), c, g, ch): (n, rs, rv) for d, c, g, ch, n, rs, rv in _rows(
            "SELECT day, category, handling_group, channel, complaints, response_seconds_sum, "
            "resolution_seconds_sum FROM complaint_daily WHERE complaints > 0", {})}
    day = _day("c.created_at")
    direct = {(_iso(d), c, g, ch): (n, rs, rv) for d, c, g, ch, n, rs, rv in _rows(
        f"SELECT {day}, c.case_category, coalesce(c.handling_group, ''), c.channel, count(*), "
        f"coalesce(sum(c.response_seconds), 0), coalesce(sum(c.resolution_seconds), 0) FROM complaint c "
        f"GROUP BY {day}, c.case_category, coalesce(c.handling_group, ''), c.channel", {})}
    assert rollup() == direct
    complaint_facts.rebuild_rollup()
    assert rollup() == direct


def test_bad_filters_are_refused_with_what_to_do() -> None:
    today = date(2026, 1, 5)
    assert dashboard.parse_filter({}, today=today) == DashboardFilter(date(2025, 12, 7), today)
    for args, field in (({"start": "2026-13-01"}, "start"), ({"start": "2026-01-05", "end": "2026-01-01"}, "end"),
                        ({"category": "nonsense"}, "category"), ({"group": "martians"}, "group"),
                        ({"channel": "fax"}, "channel"), ({"start": "2000-01-01"}, "start")):
        with pytest.raises(dashboard.ValidationFailed) as refused:
            dashboard.parse_filter(args, today=today)
        assert field in refused.value.fields
    with pytest.raises(dashboard.ValidationFailed):
        dashboard.volume_trend(DashboardFilter(today, today), "year")


def test_refund_service_moves_the_rollup_with_every_state(seeder: Seeder, clock: Any) -> None:
    from app.payments.states import RefundState
    from app.services import refunds as refund_service

    complaint = seeder.complaint(clock.now() - H, category="order.price", group="tier1-billing")
    payment = db.session.execute(text("SELECT id FROM payment WHERE order_ref = :r"),
                                 {"r": complaint.order.order_ref}).scalar_one()
    refund = refund_service.create_refund(payment, "30.00", "CNY", reason="price", requested_by="xiaoli",
                                          approved_by="zhuguan", source_key="dash:1", now=clock.now(),
                                          complaint_id=complaint.reference)
    today = DashboardFilter(date(2026, 1, 5), date(2026, 1, 5), category="order")
    assert dashboard.refunds(today)["by_state"] == {"approved": 1}
    refund_service.move(refund, RefundState.SUBMITTED, actor="system", now=clock.now())
    refund_service.move(refund, RefundState.FAILED, actor="gateway", now=clock.now())
    got = dashboard.refunds(today)
    assert (got["by_state"], got["failed"], got["approved"]) == ({"failed": 1}, 1, {"count": 1, "amount": 30.0})
    assert dashboard.refunds(DashboardFilter(date(2026, 1, 5), date(2026, 1, 5), category="delivery"))["count"] == 0


def test_a_recategorised_complaint_takes_its_refunds_along(seeded: Seeder) -> None:
    from app.models.complaint import Complaint

    complaint = db.session.get(Complaint, db.session.execute(text("SELECT min(id) FROM complaint")).scalar())
    before = complaint_facts.contribution(complaint)
    complaint.case_category, complaint.handling_group = "delivery.wrong", "tier1-logistics"
    complaint_facts.move_contribution(before, complaint)
    day = complaint.created_day
    moved = dashboard.refunds(DashboardFilter(day, day, category="delivery.wrong"))
    assert (moved["count"], moved["amount"]) == (2, 37.5)
    assert dashboard.refunds(DashboardFilter(day, day, category="product"))["count"] == 0
    test_refunds_match_sql(seeded, DashboardFilter(START, END, group="tier1-logistics"))


def _tops_direct() -> dict[tuple[str, ...], int]:
    """complaint_top_daily as SQL computes it from the complaints: per kind, day and month, and dimensions."""
    day = _day("c.created_at")
    rows: dict[tuple[str, ...], int] = {}
    for kind in ("product", "region"):
        for d, c, g, ch, name, n in _rows(
                f"SELECT {day}, c.case_category, coalesce(c.handling_group, ''), c.channel, c.{kind}, count(*) "
                f"FROM complaint c WHERE c.{kind} IS NOT NULL "
                f"GROUP BY {day}, c.case_category, coalesce(c.handling_group, ''), c.channel, c.{kind}", {}):
            for period, start in (("day", _iso(d)), ("month", _iso(d)[:8] + "01")):
                key = (kind, period, start, c, g, ch, name)
                rows[key] = rows.get(key, 0) + n
    return rows


def _tops() -> dict[tuple[str, ...], int]:
    return {(k, p, _iso(d), c, g, ch, name): n for k, p, d, c, g, ch, name, n in _rows(
        "SELECT kind, period, day, category, handling_group, channel, name, complaints FROM complaint_top_daily "
        "WHERE complaints > 0", {})}


def test_top_rollup_follows_a_recategorised_complaint_and_equals_a_rebuild(seeded: Seeder) -> None:
    from app.models.complaint import Complaint

    assert _tops() == _tops_direct()
    complaint = db.session.get(Complaint, db.session.execute(text("SELECT min(id) FROM complaint")).scalar())
    before = complaint_facts.contribution(complaint)
    complaint.case_category, complaint.handling_group = "delivery.wrong", "tier1-logistics"
    complaint_facts.move_contribution(before, complaint)
    db.session.flush()
    assert _tops() == _tops_direct()
    day = complaint.created_day
    assert dashboard.top_products(DashboardFilter(day, day, category="delivery.wrong")) == [
        {"name": complaint.product, "complaints": 1}]
    assert complaint.product not in {row["name"] for row in dashboard.top_products(
        DashboardFilter(day, day, category="product.quality"))}
    complaint_facts.rebuild_rollup()
    assert _tops() == _tops_direct()


def _refund_rollup() -> dict[tuple[Any, ...], tuple[int, float]]:
    return {(_iso(d), c, g, ch, bool(a), st): (n, float(amount)) for d, c, g, ch, a, st, n, amount in _rows(
        "SELECT day, category, handling_group, channel, automatic, state, refunds, amount FROM refund_daily "
        "WHERE refunds > 0", {})}


def test_a_refund_created_while_its_complaint_is_recategorised_counts_once(seeder: Seeder, clock: Any) -> None:
    """The same transaction changes the category, creates a refund (under the new category), then moves."""
    from app.services import refunds as refund_service

    complaint = seeder.complaint(clock.now() - H, category="order.price", group="tier1-billing")
    db.session.commit()
    payment = db.session.execute(text("SELECT id FROM payment WHERE order_ref = :r"),
                                 {"r": complaint.order.order_ref}).scalar_one()
    before = complaint_facts.contribution(complaint)
    complaint.case_category, complaint.handling_group = "delivery.late", "tier1-logistics"
    refund_service.create_refund(payment, "30.00", "CNY", reason="late", requested_by="xiaoli",
                                 approved_by="zhuguan", source_key="dash:twice", now=clock.now(),
                                 complaint_id=complaint.reference)
    complaint_facts.move_contribution(before, complaint)
    db.session.commit()
    day = _iso(complaint.created_day)
    assert _refund_rollup() == {(day, "delivery.late", "tier1-logistics", "web", False, "approved"): (1, 30.0)}
    today = DashboardFilter(complaint.created_day, complaint.created_day)
    assert dashboard.refunds(today)["count"] == 1
    assert dashboard.refunds(DashboardFilter(today.start, today.end, category="order"))["count"] == 0
    complaint_facts.rebuild_rollup()
    assert _refund_rollup() == {(day, "delivery.late", "tier1-logistics", "web", False, "approved"): (1, 30.0)}


def test_p90_plans_for_its_values_and_restores_the_plan_setting(seeded: Seeder) -> None:
    """PostgreSQL: psycopg prepares the p90 statement after five runs; it must keep custom plans (not generic)."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("plan_cache_mode is a PostgreSQL setting")
    f = DashboardFilter(START, END)
    figures = [dashboard.response_times(f) for _ in range(15)]
    assert all(figure == figures[0] for figure in figures)
    generic, custom = db.session.execute(text(
        "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) FROM pg_prepared_statements "
        "WHERE statement LIKE '%complaint.response_seconds IS NOT NULL%'")).one()
    assert (generic, custom > 0) == (0, True)
    assert db.session.execute(text("SELECT current_setting('plan_cache_mode')")).scalar() == "auto"
