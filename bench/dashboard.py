"""Time every dashboard chart on a database holding N complaints (default 1,000,000).

    .venv/bin/python bench/dashboard.py [--n 1000000] [--runs 15]   (PostgreSQL when DATABASE_URL is set)

Fills customer/order/payment, complaint (with its dashboard facts) and refund with Core
executemany in batches, spread over the 365 shop days before the bench clock, and the daily
rollups from the same rows (app.services.complaint_facts.contribution, as the services add
them). Then times each chart function of app/services/dashboard.py for four filters: the
page's default (last 30 days), the whole year, the year for one category family, and 30
days for one group and channel. p50/p95 in ms over --runs runs. Last line: JSON.
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any, Callable  # noqa: E402

from sqlalchemy import insert  # noqa: E402

from app.classification.taxonomy import CATEGORIES  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ComplaintDaily, ComplaintTopDaily, Payment, Refund, RefundDaily  # noqa: E402
from app.models.complaint import Complaint  # noqa: E402
from app.models.customer import Customer  # noqa: E402
from app.models.dashboard import ROLLUP_MEASURES  # noqa: E402
from app.models.order import Order  # noqa: E402
from app.services import complaint_facts, dashboard  # noqa: E402
from app.services.dashboard import DashboardFilter  # noqa: E402
from bench._common import bench_app, timed  # noqa: E402

BATCH, ORDERS, DAYS = 20_000, 1_000, 365
GROUP_OF = {"product": "tier1-product", "delivery": "tier1-logistics", "order": "tier1-billing",
            "service": "supervisors", "other": "tier1-product"}
PRODUCTS = [f"商品{i:03d}" for i in range(200)]
REGIONS = ["北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "河南", "福建", "湖南", "安徽", "陕西",
           "辽宁", "重庆", "天津", "云南", "广西", "江西", "河北", "山西", "吉林", "黑龙江", "贵州", "甘肃", "海南",
           "内蒙古", "新疆", "宁夏", "青海", "西藏"]


def _complaint(i: int, now: Any, rng: random.Random) -> dict[str, Any]:
    created = now - timedelta(seconds=rng.randrange(DAYS * 86400))
    code = CATEGORIES[rng.randrange(len(CATEGORIES))].code
    response, resolution = rng.randrange(60, 30 * 3600), rng.randrange(3600, 96 * 3600)
    is_done = created + timedelta(seconds=resolution) < now and rng.random() < 0.97
    first = created + timedelta(seconds=response) if is_done or rng.random() < 0.5 else None
    resolved = created + timedelta(seconds=resolution) if is_done else None
    rated = resolved is not None and rng.random() < 0.35
    return {"id": i, "customer_id": 1, "order_id": i % ORDERS + 1, "category": code, "description": "bench",
            "channel": "app" if rng.random() < 0.4 else "web", "created_at": created,
            "created_day": complaint_facts.shop_day(created), "case_category": code,
            "handling_group": GROUP_OF[code.split(".")[0]], "product": PRODUCTS[int(rng.paretovariate(1.2)) % 200],
            "region": REGIONS[rng.randrange(len(REGIONS))], "response_due_at": created + timedelta(hours=2),
            "resolution_due_at": created + timedelta(days=1), "first_response_at": first, "resolved_at": resolved,
            "response_seconds": response if first else None, "resolution_seconds": resolution if resolved else None,
            "satisfied": (rng.random() < 0.8) if rated else None, "csat": rng.randint(1, 5) if rated else None,
            "confirmed_at": resolved + timedelta(hours=rng.randrange(1, 80)) if rated and resolved else None}


def _refund(i: int, complaint: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    automatic = rng.random() < 0.6
    return {"id": i, "payment_id": complaint["order_id"], "provider": "alipay",
            "amount": Decimal(rng.randrange(100, 49_900)) / 100 if automatic else Decimal(rng.randrange(50, 900)),
            "currency": "CNY", "state": rng.choice(("succeeded",) * 8 + ("failed", "unknown")),
            "idempotency_key": f"bench-{i}", "source_key": f"bench:{i}",
            "requested_by": "system" if automatic else "agent", "complaint_id": f"C-{complaint['id']}",
            "attempts": 1, "queries": 0, "created_at": complaint["created_at"] + timedelta(hours=1),
            "updated_at": complaint["created_at"] + timedelta(hours=1), "reason": ""}


def fill(n: int, now: Any) -> None:
    """Insert the reference rows, n complaints, a refund for about one in ten, and the rollup."""
    db.session.execute(insert(Customer.__table__), [{"id": 1, "name": "bench", "phone": "13000000000",
                                                     "tier": "normal", "created_at": now}])
    db.session.execute(insert(Order.__table__), [
        {"id": k, "order_ref": f"B-{k}", "customer_id": 1, "items": [], "amount_paid": Decimal("999.00"),
         "currency": "CNY", "payment_method": "alipay", "paid_at": now} for k in range(1, ORDERS + 1)])
    db.session.execute(insert(Payment.__table__), [
        {"id": k, "order_ref": f"B-{k}", "provider": "alipay", "provider_payment_id": f"P-{k}",
         "amount": Decimal("999.00"), "currency": "CNY", "amount_reserved": 0, "amount_refunded": 0, "paid_at": now}
        for k in range(1, ORDERS + 1)])
    rng, sums, refund_sums, tops, refunds = random.Random(7), {}, {}, {}, 0
    for start in range(1, n + 1, BATCH):
        rows = [_complaint(i, now, rng) for i in range(start, min(start + BATCH, n + 1))]
        db.session.execute(insert(Complaint.__table__), rows)
        refund_rows = []
        for row in rows:
            key, measures = complaint_facts.contribution(SimpleNamespace(**row))  # type: ignore[arg-type]
            total = sums.setdefault(key, dict.fromkeys(ROLLUP_MEASURES, 0))
            for name in ROLLUP_MEASURES:
                total[name] += measures[name]
            for kind in ("product", "region"):
                for period, day in (("day", key[0]), ("month", key[0].replace(day=1))):
                    top = (kind, period, day, *key[1:], row[kind])
                    tops[top] = tops.get(top, 0) + 1
            if rng.random() < 0.1:
                refunds += 1
                refund = _refund(refunds, row, rng)
                refund.update(counted_category=key[1], counted_group=key[2], counted_channel=key[3])
                refund_rows.append(refund)
                total = refund_sums.setdefault((complaint_facts.shop_day(refund["created_at"]), *key[1:],
                                                refund["requested_by"] == "system", refund["state"]), [0, 0])
                total[0] += 1
                total[1] += refund["amount"]
        if refund_rows:
            db.session.execute(insert(Refund.__table__), refund_rows)
        db.session.commit()
    db.session.execute(insert(ComplaintDaily.__table__), [
        {"day": k[0], "category": k[1], "handling_group": k[2], "channel": k[3], **v} for k, v in sums.items()])
    db.session.execute(insert(ComplaintTopDaily.__table__), [
        {"kind": k[0], "period": k[1], "day": k[2], "category": k[3], "handling_group": k[4], "channel": k[5],
         "name": k[6], "complaints": n} for k, n in tops.items()])
    db.session.execute(insert(RefundDaily.__table__), [
        {"day": k[0], "category": k[1], "handling_group": k[2], "channel": k[3], "automatic": k[4], "state": k[5],
         "refunds": n, "amount": amount} for k, (n, amount) in refund_sums.items()])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # what autovacuum does on a live database after a bulk insert: statistics, and the visibility
        # map that lets the covering indexes answer without reading the table
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()



def charts(now: Any) -> dict[str, Callable[[DashboardFilter], Any]]:
    return {"trend_day": lambda f: dashboard.volume_trend(f, "day"),
            "trend_month": lambda f: dashboard.volume_trend(f, "month"),
            "categories": dashboard.category_share, "times_avg_p90": dashboard.response_times,
            "sla_by_group": lambda f: dashboard.sla_by_group(f, now=now), "satisfaction": dashboard.satisfaction,
            "refunds": dashboard.refunds, "top_products": dashboard.top_products, "top_regions": dashboard.top_regions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="complaints")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per chart and filter")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp()
    app, clock = bench_app("dashboard", scratch=scratch)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        started = time.perf_counter()
        fill(args.n, clock.now())
        filled = time.perf_counter() - started
        today = complaint_facts.shop_day(clock.now())
        filters = {"last_30_days": DashboardFilter(today - timedelta(days=29), today),
                   "year": DashboardFilter(today - timedelta(days=DAYS), today),
                   "year_delivery": DashboardFilter(today - timedelta(days=DAYS), today, category="delivery"),
                   "30_days_group_channel": DashboardFilter(today - timedelta(days=29), today, group="tier1-product",
                                                            channel="app")}
        results = {name: {chart: timed(lambda: figure(f), args.runs) for chart, figure in charts(clock.now()).items()}
                   for name, f in filters.items()}
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(scratch, ignore_errors=True)  # the SQLite file (about 1 GB for a million complaints)
    print(f"filled {args.n} complaints in {filled:.1f} s on {url.split(':')[0]}")
    for name, per_chart in results.items():
        print(name)
        for chart, numbers in per_chart.items():
            print(f"  {chart:16s} p50 {numbers['p50_ms']:8.1f} ms   p95 {numbers['p95_ms']:8.1f} ms")
    worst = max(numbers["p95_ms"] for per_chart in results.values() for numbers in per_chart.values())
    print(json.dumps({"n": args.n, "database": url.split(":")[0], "fill_seconds": round(filled, 1),
                      "worst_p95_ms": worst, **results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
