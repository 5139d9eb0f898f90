"""The weekly review: top complaint causes, SLA misses and rule changes the data suggests, for one ISO week.

Weeks are ISO weeks (Monday to Sunday) in the shop's time zone. Suggestions come from the
explicit heuristics below; each carries the numbers it was derived from.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Refund
from app.models.complaint import Complaint
from app.services import dashboard
from app.services.dashboard import CATEGORY_LABELS, DashboardFilter

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
EXAMPLES = 3
WORST_CASES = 5
# Heuristics (docs/dashboard.md "Weekly review"): each fires only with enough cases to mean something.
AUTO_REFUND_LIMIT = 50          # ¥: the automatic refund limit of rules/refund_approval_level.dmn
AUTO_REFUND_SHARE = 0.9         # ...share of a category's small refunds that went through automatically
MANUAL_REFUND_CEILING = 100     # ¥: small manual refunds, almost always approved, could be automatic
MANUAL_APPROVED_SHARE = 0.95
SLA_MISS_SHARE = 0.3            # a group missing its resolution SLA this often should be re-routed or staffed
VOLUME_RISE = 0.5               # a category rising by half week on week needs its cause investigated
LOW_CSAT = 3.5
MIN_CASES = 5


@dataclass(frozen=True)
class Week:
    """One ISO week: ``label`` like 2026-W47, ``start`` its Monday, ``end`` its Sunday."""

    year: int
    number: int

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def previous(self) -> Week:
        year, number, _ = (self.start - timedelta(days=7)).isocalendar()
        return Week(year, number)


@dataclass
class Review:
    """What the review page, the downloads and the CLI show."""

    week: Week
    total: int
    previous_total: int
    causes: list[dict[str, Any]] = field(default_factory=list)
    sla: list[dict[str, Any]] = field(default_factory=list)
    worst_cases: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[dict[str, str]] = field(default_factory=list)


def parse_week(text: str | None, *, today: date) -> Week:
    """Read ``YYYY-Www``; empty means the last full week before ``today``."""
    if not text:
        year, number, _ = (today - timedelta(days=7)).isocalendar()
        return Week(year, number)
    match = _WEEK.match(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValidationFailed(f"'{text}' is not an ISO week; write it like 2026-W47",
                               fields={"week": "write the week like 2026-W47"}) from None
    return Week(int(match[1]), int(match[2]))


def build_review(week: Week, *, now: datetime) -> Review:
    """Compute the review of ``week`` (figures as of ``now``)."""
    this, before = DashboardFilter(week.start, week.end), DashboardFilter(week.previous().start, week.previous().end)
    counts = {r["code"]: r["count"] for r in dashboard.category_share(this)["level2"]}
    previous = {r["code"]: r["count"] for r in dashboard.category_share(before)["level2"]}
    review = Review(week, sum(counts.values()), sum(previous.values()))
    for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]:
        review.causes.append({"category": code, "label": CATEGORY_LABELS.get(code, code), "count": count,
                              "previous": previous.get(code, 0), "change": _change(count, previous.get(code, 0)),
                              "examples": _examples(this, code)})
    review.sla = dashboard.sla_by_group(this, now=now)
    review.worst_cases = _worst_cases(this, now)
    review.suggestions = _suggestions(this, counts, previous, review.sla)
    return review


def _change(count: int, previous: int) -> float | None:
    return round((count - previous) / previous, 4) if previous else None


def _examples(f: DashboardFilter, code: str) -> list[dict[str, Any]]:
    rows = db.session.execute(select(Complaint).where(Complaint.created_day >= f.start, Complaint.created_day <= f.end,
                                                      Complaint.case_category == code)
                              .order_by(Complaint.created_at, Complaint.id).limit(EXAMPLES)).scalars()
    return [{"reference": c.reference, "id": c.id, "text": c.description[:80]} for c in rows]


def _worst_cases(f: DashboardFilter, now: datetime) -> list[dict[str, Any]]:
    """Return the complaints of the week whose resolution missed its deadline by the most (open ones until now)."""
    candidates = db.session.execute(select(Complaint).where(
        Complaint.created_day >= f.start, Complaint.created_day <= f.end, Complaint.resolution_due_at.is_not(None),
        Complaint.resolution_due_at < func.coalesce(Complaint.resolved_at, now))).scalars().all()
    overdue = sorted(((((c.resolved_at or now) - c.resolution_due_at).total_seconds(), c) for c in candidates
                      if c.resolution_due_at is not None), key=lambda pair: (-pair[0], pair[1].id))
    return [{"reference": c.reference, "id": c.id, "group": c.handling_group or "未分配",
             "category": CATEGORY_LABELS.get(c.case_category or "", c.case_category),
             "overdue_hours": round(seconds / 3600, 1), "open": c.resolved_at is None}
            for seconds, c in overdue[:WORST_CASES]]


def _refund_mix(f: DashboardFilter) -> list[Any]:
    """Per category: small refunds, how many automatic; manual small refunds, how many approved and paid."""
    start, end = f.utc_bounds()
    automatic = Refund.requested_by == "system"
    small = Refund.amount < AUTO_REFUND_LIMIT
    manual_small = and_(~automatic, Refund.amount < MANUAL_REFUND_CEILING)
    query = (select(Complaint.case_category,
                    func.sum(case((small, 1), else_=0)).label("small"),
                    func.sum(case((and_(small, automatic), 1), else_=0)).label("small_automatic"),
                    func.sum(case((manual_small, 1), else_=0)).label("manual_small"),
                    func.sum(case((and_(manual_small, Refund.approved_by.is_not(None)), 1), else_=0))
                    .label("manual_small_approved"))
             .join(Complaint, and_(Refund.complaint_id.like("C-%"),
                                   Complaint.id == cast(func.substr(Refund.complaint_id, 3), Integer)))
             .where(Refund.created_at >= start, Refund.created_at < end).group_by(Complaint.case_category))
    return list(db.session.execute(query))


def _suggestions(f: DashboardFilter, counts: dict[str, int], previous: dict[str, int],
                 sla: list[dict[str, Any]]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for row in _refund_mix(f):
        label = CATEGORY_LABELS.get(row.case_category, row.case_category)
        if row.small >= MIN_CASES and row.small_automatic / row.small >= AUTO_REFUND_SHARE:
            found.append({"rule": "auto_refund_limit", "message": (
                f"「{label}」¥{AUTO_REFUND_LIMIT} 以下的退款 {row.small_automatic / row.small:.0%} 为自动退款："
                f"可考虑提高自动退款上限 (consider raising the auto-refund limit)"),
                "evidence": f"{row.small_automatic} of {row.small} refunds under ¥{AUTO_REFUND_LIMIT} were automatic"})
        if row.manual_small >= MIN_CASES and row.manual_small_approved / row.manual_small >= MANUAL_APPROVED_SHARE:
            found.append({"rule": "manual_refunds_always_approved", "message": (
                f"「{label}」¥{MANUAL_REFUND_CEILING} 以下的人工退款几乎全部获批：可考虑放入自动退款规则 "
                f"(consider an automatic rule)"),
                "evidence": f"{row.manual_small_approved} of {row.manual_small} manual refunds under "
                            f"¥{MANUAL_REFUND_CEILING} were approved"})
    for row in sla:
        decided = row["resolution_met"] + row["resolution_missed"]
        if decided >= MIN_CASES and row["resolution_missed"] / decided >= SLA_MISS_SHARE:
            found.append({"rule": "sla_reroute", "message": (
                f"{row['group']} 有 {row['resolution_missed'] / decided:.0%} 的投诉未在解决时限内完成："
                f"可考虑调整分派或增加人手 (consider re-routing)"),
                "evidence": f"{row['resolution_missed']} of {decided} resolutions missed the SLA"})
    for code, count in sorted(counts.items()):
        before = previous.get(code, 0)
        if count >= MIN_CASES * 2 and before and (count - before) / before >= VOLUME_RISE:
            found.append({"rule": "volume_rise", "message": (
                f"「{CATEGORY_LABELS.get(code, code)}」投诉量环比上升 {(count - before) / before:.0%}："
                f"请排查原因 (investigate the cause)"),
                "evidence": f"{count} complaints this week, {before} the week before"})
    found.extend(_low_csat(f))
    return found


def _low_csat(f: DashboardFilter) -> list[dict[str, str]]:
    rated = func.count(Complaint.csat).label("rated")
    average = func.avg(Complaint.csat).label("average")
    query = (select(Complaint.case_category, rated, average)
             .where(Complaint.created_day >= f.start, Complaint.created_day <= f.end, Complaint.csat.is_not(None))
             .group_by(Complaint.case_category).order_by(Complaint.case_category))
    return [{"rule": "low_csat", "message": (
        f"「{CATEGORY_LABELS.get(row.case_category, row.case_category)}」平均评分 {float(row.average):.2f}："
        f"请复查答复模板与补偿方案 (review replies and compensation)"),
        "evidence": f"average CSAT {float(row.average):.2f} over {row.rated} ratings (threshold {LOW_CSAT})"}
        for row in db.session.execute(query) if row.rated >= MIN_CASES and float(row.average) < LOW_CSAT]


def render_file(review: Review, fmt: str) -> tuple[str, str]:
    """Return the review as (text, mimetype) in ``md`` or ``csv``."""
    if fmt == "md":
        return to_markdown(review), "text/markdown; charset=utf-8"
    if fmt == "csv":
        return to_csv(review), "text/csv; charset=utf-8"
    raise NotFound(f"no '{fmt}' download; use weekly.md or weekly.csv")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0%}"


def to_markdown(review: Review) -> str:
    """Return the review as a Markdown document."""
    w = review.week
    lines = [f"# 周报 Weekly review {w.label} ({w.start} – {w.end})", "",
             f"Complaints 投诉量: {review.total} (previous week 上周: {review.previous_total})", "",
             "## Top causes 主要投诉原因", ""]
    for i, cause in enumerate(review.causes, 1):
        lines.append(f"{i}. **{cause['label']}** ({cause['category']}): {cause['count']}, "
                     f"previous {cause['previous']}, change {_percent(cause['change'])}")
        lines += [f"   - {e['reference']}: {e['text']}" for e in cause["examples"]]
    lines += ["", "## SLA per group 各组 SLA", "", "| group | response met | missed | resolution met | missed |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['group']} | {r['response_met']} | {r['response_missed']} | {r['resolution_met']} | "
              f"{r['resolution_missed']} |" for r in review.sla]
    lines += ["", "### Worst cases 超时最久", ""]
    lines += [f"- {c['reference']} ({c['group']}, {c['category']}): {c['overdue_hours']} h over"
              f"{' (still open)' if c['open'] else ''}" for c in review.worst_cases] or ["- none 无"]
    lines += ["", "## Suggested rule changes 规则调整建议", ""]
    lines += [f"- {s['message']} — evidence: {s['evidence']}" for s in review.suggestions] or ["- none 无"]
    return "\n".join(lines) + "\n"


def to_csv(review: Review) -> str:
    """Return the review as CSV rows: section, item, figure, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "figure", "value"])
    writer.writerow(["total", review.week.label, "complaints", review.total])
    writer.writerow(["total", review.week.previous().label, "complaints", review.previous_total])
    for cause in review.causes:
        for figure in ("count", "previous", "change"):
            writer.writerow(["cause", cause["category"], figure, cause[figure]])
    for row in review.sla:
        for figure in ("response_met", "response_missed", "resolution_met", "resolution_missed"):
            writer.writerow(["sla", row["group"], figure, row[figure]])
    for case_ in review.worst_cases:
        writer.writerow(["worst_case", case_["reference"], "overdue_hours", case_["overdue_hours"]])
    for suggestion in review.suggestions:
        writer.writerow(["suggestion", suggestion["rule"], suggestion["message"], suggestion["evidence"]])
    return out.getvalue()
