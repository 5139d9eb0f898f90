"""Time the minute alert chore on the dashboard bench's database of N complaints.

    .venv/bin/python bench/alerts.py [--n 1000000] [--runs 15]   (PostgreSQL when DATABASE_URL is set)

Fills the database with bench/dashboard.py's ``fill`` (complaints with product and region over
365 shop days), then times each alert rule and one whole ``alerts.evaluate`` (which opens the
alerts the data holds on its first run; later runs only refresh them). p50/p95 in ms. Last line: JSON.
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models.alert import Alert  # noqa: E402
from app.services import alerts  # noqa: E402
from app.services.alert_rules import RULES, AlertSettings  # noqa: E402
from bench._common import bench_app, timed  # noqa: E402

# bench/dashboard.py's fill (loaded by path: bench/ is kept off sys.path on purpose)
_spec = importlib.util.spec_from_file_location("bench_dashboard", _paths.HERE / "dashboard.py")
_dashboard = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_dashboard)  # type: ignore[union-attr]
fill = _dashboard.fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="complaints")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    app, clock = bench_app("alerts")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        started = time.perf_counter()
        fill(args.n, clock.now())
        filled = time.perf_counter() - started
        settings, now = AlertSettings(), clock.now()
        results = {kind.value: timed(lambda rule=rule: rule(now, settings), args.runs) for kind, rule in RULES.items()}
        started = time.perf_counter()
        alerts.evaluate(now, settings)
        db.session.commit()
        first = round((time.perf_counter() - started) * 1000, 1)
        results["evaluate"] = timed(lambda: (alerts.evaluate(now, settings), db.session.commit()), args.runs)
        opened = db.session.execute(select(func.count()).select_from(Alert)).scalar_one()
        db.session.remove()
    print(f"filled {args.n} complaints in {filled:.1f} s on {url.split(':')[0]}; first run {first} ms "
          f"opened {opened} alert(s)")
    for name, numbers in results.items():
        print(f"{name:18s} p50 {numbers['p50_ms']:8.1f} ms   p95 {numbers['p95_ms']:8.1f} ms")
    print(json.dumps({"n": args.n, "database": url.split(":")[0], "fill_seconds": round(filled, 1),
                      "first_evaluate_ms": first, "alerts_opened": opened, **results}))


if __name__ == "__main__":
    main()
