"""The dashboard's figures: one function per chart, each returning plain data for JSON.

Complaint figures are read from the daily rollups ``complaint_daily`` and (top products /
regions) ``complaint_top_daily`` (exact: see app/services/complaint_facts.py), except the p90
times, which are exact queries over the filtered complaint rows (indexed by shop day). Days,
weeks and months are the shop's (config SHOP_TIMEZONE); ranges include both end days.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator

from sqlalchemy import Date, Select, UnaryExpression, func, select, union_all
from sqlalchemy.sql.operators import custom_op

from app.classification.taxonomy import CATEGORIES
from app.errors import ValidationFailed
from app.extensions import db
from app.models import ComplaintDaily, ComplaintTopDaily, RefundDaily
from app.models.complaint import Complaint
from app.models.workspace import GROUPS
from app.payments.states import PAID
from app.services.complaint_facts import shop_zone

CHANNELS = ("web", "app")
GRANULARITIES = ("day", "week", "month")
MAX_DAYS = 3660
FAMILY_LABELS = {c.code.split(".")[0]: c.level1_zh for c in CATEGORIES}
CATEGORY_LABELS = {c.code: c.level2_zh for c in CATEGORIES}
FAILED_STATES = ("failed",)
LONG_RANGE = 50_000  # complaints; see _complaint_where and _is_long
P90_WALK_SHARE = 0.2  # from the top, the p90 walk reads about a tenth of the index


@dataclass(frozen=True)
class DashboardFilter:
    """Which complaints a figure covers: created on shop days start..end, optional category/group/channel.

    ``category`` is a category code (``delivery.late``) or a level-1 family (``delivery``).
    """

    start: date
    end: date
    category: str | None = None
    group: str | None = None
    channel: str | None = None

    @property
    def categories(self) -> list[str] | None:
        """Return the category codes the category filter stands for (None: every category)."""
        if not self.category:
            return None
        return [c.code for c in CATEGORIES if self.category in (c.code, c.code.split(".")[0])]

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Return [start of the first day, start of the day after the last) in UTC-aware datetimes."""
        zone = shop_zone()
        after = self.end + timedelta(days=1)
        return datetime.combine(self.start, time(), zone), datetime.combine(after, time(), zone)


def parse_filter(args: dict[str, str], *, today: date) -> DashboardFilter:
    """Read a filter from query arguments (start, end, category, group, channel); default the last 30 days."""
    errors: dict[str, str] = {}
    start, end = today - timedelta(days=29), today
    for name in ("start", "end"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                errors[name] = f"'{text}' is not a date; use YYYY-MM-DD"
                continue
            start, end = (value, end) if name == "start" else (start, value)
    if not errors and start > end:
        errors["end"] = "the end date is before the start date; pick an end on or after the start"
    if not errors and (end - start).days >= MAX_DAYS:
        errors["start"] = f"the range is longer than {MAX_DAYS} days; choose a shorter range"
    category, group, channel = ((args.get(k) or "").strip() or None for k in ("category", "group", "channel"))
    if category and category not in CATEGORY_LABELS and category not in FAMILY_LABELS:
        errors["category"] = f"unknown category '{category}'; choose one from the list"
    if group and group not in GROUPS:
        errors["group"] = f"unknown group '{group}'; choose one of {', '.join(GROUPS)}"
    if channel and channel not in CHANNELS:
        errors["channel"] = f"unknown channel '{channel}'; choose web or app"
    if errors:
        raise ValidationFailed("the dashboard filter is not valid: " + "; ".join(errors.values()), fields=errors)
    return DashboardFilter(start, end, category, group, channel)


def _rollup_where(f: DashboardFilter, table: Any = ComplaintDaily) -> list[Any]:
    """Return the filter on a daily rollup (complaint_daily or refund_daily: same key columns)."""
    return [table.day >= f.start, table.day <= f.end,
            *_dimensions(f, table.category, table.handling_group, table.channel)]


def _complaint_where(f: DashboardFilter, *, long_range: bool = False) -> list[Any]:
    day: Any = Complaint.created_day
    if long_range and db.session.get_bind().dialect.name == "sqlite":
        # SQLite's documented no-op "+" keeps the planner off the by-day index: a long range is read
        # through the value-ordered covering index (ix_complaint_by_*) instead, with no sort
        day = UnaryExpression(Complaint.created_day, operator=custom_op("+"), type_=Date())
    return [day >= f.start, day <= f.end, *_complaint_dimensions(f)]


def _is_long(f: DashboardFilter, count: int | None = None, *, share: float) -> bool:
    """Say whether walking a value-ordered index beats reading the range by day and sorting it.

    The walk reads a fixed part of the whole index whatever the filter, the sort grows with the range:
    so walk only for more than LONG_RANGE complaints that are more than ``share`` of all complaints.
    """
    if count is None:
        count = int(_sums(f, "complaints")[0].complaints)
    if count <= LONG_RANGE:
        return False
    total = db.session.execute(select(func.coalesce(func.sum(ComplaintDaily.complaints), 0))).scalar() or 0
    return count > share * int(total)


def _complaint_dimensions(f: DashboardFilter) -> list[Any]:
    return _dimensions(f, Complaint.case_category, Complaint.handling_group, Complaint.channel)


def _dimensions(f: DashboardFilter, category: Any, group: Any, channel: Any) -> list[Any]:
    """Return the category, group and channel filters on the given columns (those the filter sets)."""
    clauses: list[Any] = []
    if f.categories is not None:
        clauses.append(category.in_(f.categories))
    if f.group:
        clauses.append(group == f.group)
    if f.channel:
        clauses.append(channel == f.channel)
    return clauses


def _sums(f: DashboardFilter, *names: str, by: Any = None) -> list[Any]:
    columns = [func.coalesce(func.sum(getattr(ComplaintDaily, n)), 0).label(n) for n in names]
    query: Select[Any] = select(*([by] if by is not None else []), *columns).where(*_rollup_where(f))
    if by is not None:
        query = query.group_by(by)
    return list(db.session.execute(query))


def period_start(day: date, granularity: str) -> date:
    """Return the first day of the day's period: itself, its ISO week's Monday, or its month's 1st."""
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def volume_trend(f: DashboardFilter, granularity: str = "day") -> list[dict[str, Any]]:
    """Return complaints per period (every period of the range, zeros included), oldest first."""
    if granularity not in GRANULARITIES:
        raise ValidationFailed(f"unknown period '{granularity}'; use day, week or month",
                               fields={"granularity": "use day, week or month"})
    counts: dict[date, int] = {}
    day = f.start
    while day <= f.end:
        counts.setdefault(period_start(day, granularity), 0)
        day += timedelta(days=1)
    for row in _sums(f, "complaints", by=ComplaintDaily.day):
        counts[period_start(row.day, granularity)] += int(row.complaints)
    return [{"period": p.isoformat(), "complaints": n} for p, n in sorted(counts.items())]


def category_share(f: DashboardFilter) -> dict[str, list[dict[str, Any]]]:
    """Return complaint counts per level-1 family and per level-2 category (largest first)."""
    level2 = {row.category: int(row.complaints) for row in _sums(f, "complaints", by=ComplaintDaily.category)
              if row.complaints}
    level1: dict[str, int] = {}
    for code, count in level2.items():
        level1[code.split(".")[0]] = level1.get(code.split(".")[0], 0) + count
    return {
        "level1": [{"code": k, "name": FAMILY_LABELS.get(k, k), "count": v}
                   for k, v in sorted(level1.items(), key=lambda kv: (-kv[1], kv[0]))],
        "level2": [{"code": k, "name": CATEGORY_LABELS.get(k, k), "family": k.split(".")[0], "count": v}
                   for k, v in sorted(level2.items(), key=lambda kv: (kv[0].split(".")[0], -kv[1], kv[0]))],
    }


def _p90(f: DashboardFilter, column: Any, count: int) -> int | None:
    """Return the nearest-rank 90th percentile: the ceil(0.9 n)-th smallest value."""
    if count == 0:
        return None
    rank = math.ceil(0.9 * count)
    long_range = _is_long(f, count, share=P90_WALK_SHARE)
    query = select(column).where(*_complaint_where(f, long_range=long_range), column.is_not(None))
    if long_range:
        # the same row counted from the top: a walk down the value index stops after about a tenth of it
        query = query.order_by(column.desc()).limit(1).offset(count - rank)
    else:
        query = query.order_by(column).limit(1).offset(rank - 1)
    with _custom_plan():
        return db.session.execute(query).scalar()


@contextmanager
def _custom_plan() -> Iterator[None]:
    """On PostgreSQL, plan the statements inside for their values, then restore the setting.

    psycopg prepares a statement run five times; PostgreSQL may then switch it to a generic plan
    that does not know the range or the rank, and a p90 over a year took a second instead of 40 ms.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = db.session.execute(select(func.current_setting("plan_cache_mode"))).scalar()
    db.session.execute(select(func.set_config("plan_cache_mode", "force_custom_plan", True)))
    try:
        yield
    finally:
        db.session.execute(select(func.set_config("plan_cache_mode", previous, True)))


def response_times(f: DashboardFilter) -> dict[str, dict[str, Any]]:
    """Return count, average and p90 seconds to first response and to resolution."""
    row = _sums(f, "responded", "response_seconds_sum", "resolved", "resolution_seconds_sum")[0]
    result = {}
    for name, count, total, column in (("first_response", row.responded, row.response_seconds_sum,
                                        Complaint.response_seconds),
                                       ("resolution", row.resolved, row.resolution_seconds_sum,
                                        Complaint.resolution_seconds)):
        count = int(count)
        result[name] = {"count": count, "avg_seconds": round(int(total) / count, 1) if count else None,
                        "p90_seconds": _p90(f, column, count)}
    return result


def _open_misses(f: DashboardFilter, done: Any, due: Any, now: datetime) -> dict[str, int]:
    """Return per group the complaints still waiting for a step whose deadline has passed."""
    query = (select(Complaint.handling_group, func.count()).where(done.is_(None), due < now, *_complaint_where(f))
             .group_by(Complaint.handling_group))
    return {group or "": int(n) for group, n in db.session.execute(query)}


def sla_by_group(f: DashboardFilter, *, now: datetime) -> list[dict[str, Any]]:
    """Return per group the responses and resolutions on time and missed (late, or overdue and open).

    Steps still open before their deadline count neither way.
    """
    rows = {r.handling_group: r for r in _sums(f, "response_met", "response_late", "resolution_met",
                                                 "resolution_late", by=ComplaintDaily.handling_group)}
    open_response = _open_misses(f, Complaint.first_response_at, Complaint.response_due_at, now)
    open_resolution = _open_misses(f, Complaint.resolved_at, Complaint.resolution_due_at, now)
    result = []
    for group in sorted(set(rows) | set(open_response) | set(open_resolution)):
        row = rows.get(group)
        figures = {"group": group or "未分配"}
        for step, opened in (("response", open_response), ("resolution", open_resolution)):
            met = int(getattr(row, f"{step}_met")) if row else 0
            missed = (int(getattr(row, f"{step}_late")) if row else 0) + opened.get(group, 0)
            figures.update({f"{step}_met": met, f"{step}_missed": missed,
                            f"{step}_compliance": round(met / (met + missed), 4) if met + missed else None})
        if any(figures[k] for k in ("response_met", "response_missed", "resolution_met", "resolution_missed")):
            result.append(figures)
    return result


def satisfaction(f: DashboardFilter) -> dict[str, Any]:
    """Return CSAT (average 1-5 rating) and the share of resolved complaints confirmed satisfied within 72 h."""
    row = _sums(f, "rated", "csat_sum", "resolved", "satisfied_72h")[0]
    rated, resolved = int(row.rated), int(row.resolved)
    return {"rated": rated, "csat_avg": round(int(row.csat_sum) / rated, 3) if rated else None,
            "resolved": resolved, "satisfied_72h": int(row.satisfied_72h),
            "satisfied_72h_share": round(int(row.satisfied_72h) / resolved, 4) if resolved else None}


def refunds(f: DashboardFilter) -> dict[str, Any]:
    """Return refunds asked for in the range: count and amount, automatic vs approved, paid, failed, unknown.

    With a category, group or channel filter: the refunds of the complaints that match it.
    """
    table = RefundDaily
    query = (select(table.automatic, table.state, func.sum(table.refunds).label("n"),
                    func.coalesce(func.sum(table.amount), 0).label("amount"))
             .where(*_rollup_where(f, table)).group_by(table.automatic, table.state))
    totals: dict[str, Any] = {"count": 0, "amount": 0.0, "paid_amount": 0.0, "failed": 0, "unknown": 0,
                              "automatic": {"count": 0, "amount": 0.0}, "approved": {"count": 0, "amount": 0.0},
                              "by_state": {}}
    for row in db.session.execute(query):
        amount, count = float(row.amount), int(row.n)
        if not count:
            continue  # every refund of this key moved on to another state
        totals["count"] += count
        totals["amount"] = round(totals["amount"] + amount, 2)
        side = totals["automatic" if row.automatic else "approved"]
        side["count"] += count
        side["amount"] = round(side["amount"] + amount, 2)
        totals["by_state"][row.state] = totals["by_state"].get(row.state, 0) + count
        if row.state in {s.value for s in PAID}:
            totals["paid_amount"] = round(totals["paid_amount"] + amount, 2)
    totals["failed"] = sum(totals["by_state"].get(s, 0) for s in FAILED_STATES)
    totals["unknown"] = totals["by_state"].get("unknown", 0)
    return totals


def _month_span(f: DashboardFilter) -> tuple[date, date] | None:
    """Return the first days of the first and the last calendar month the range covers whole (None: none)."""
    first = f.start if f.start.day == 1 else (f.start.replace(day=1) + timedelta(days=32)).replace(day=1)
    if (f.end + timedelta(days=1)).day == 1:
        last = f.end.replace(day=1)
    else:
        last = (f.end.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else None


def _top(f: DashboardFilter, kind: str, limit: int) -> list[dict[str, Any]]:
    """Return the top names of ``kind`` from complaint_top_daily: whole months from month rows, ends from days."""
    table = ComplaintTopDaily
    dimensions = _dimensions(f, table.category, table.handling_group, table.channel)
    months = _month_span(f)
    spans = [("day", f.start, f.end)] if months is None else [
        ("day", f.start, months[0] - timedelta(days=1)), ("month", months[0], months[1]),
        ("day", (months[1] + timedelta(days=32)).replace(day=1), f.end)]
    parts = [select(table.name, table.complaints).where(table.kind == kind, table.period == period,
                                                        table.day >= first, table.day <= last, *dimensions)
             for period, first, last in spans if first <= last]
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    total = func.sum(rows.c.complaints).label("n")
    query = (select(rows.c.name, total).group_by(rows.c.name).having(total > 0)
             .order_by(total.desc(), rows.c.name).limit(limit))
    return [{"name": name, "complaints": int(n)} for name, n in db.session.execute(query)]


def top_products(f: DashboardFilter, limit: int = 10) -> list[dict[str, Any]]:
    """Return the products with the most complaints (ties by name)."""
    return _top(f, "product", limit)


def top_regions(f: DashboardFilter, limit: int = 10) -> list[dict[str, Any]]:
    """Return the regions with the most complaints (ties by name)."""
    return _top(f, "region", limit)


def complaint_panels(f: DashboardFilter, *, granularity: str, now: datetime) -> dict[str, Any]:
    """Return every complaint chart's data."""
    return {"trend": volume_trend(f, granularity), "categories": category_share(f), "times": response_times(f),
            "sla": sla_by_group(f, now=now), "satisfaction": satisfaction(f), "products": top_products(f),
            "regions": top_regions(f)}


def dashboard_data(f: DashboardFilter, *, granularity: str, include_complaints: bool, now: datetime
                   ) -> dict[str, Any]:
    """Return the JSON the dashboard page draws: the filter, the complaint charts (if allowed), refunds."""
    data: dict[str, Any] = {"filter": {"start": f.start.isoformat(), "end": f.end.isoformat(),
                                       "category": f.category, "group": f.group, "channel": f.channel,
                                       "granularity": granularity}}
    if include_complaints:
        data.update(complaint_panels(f, granularity=granularity, now=now))
    data["refunds"] = refunds(f)
    return data
