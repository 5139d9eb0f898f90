"""0100_dashboard_rollups on a database that already holds complaints: days, categories and the rollup."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from tests.conftest import BACKENDS, _Database, make_app


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_complaints_get_their_shop_day_and_rollup_count(backend: str, tmp_path: Path) -> None:
    database = _Database(backend, tmp_path)
    app = make_app(database, tmp_path)
    try:
        with app.app_context():
            downgrade(revision="0070_merge_heads")  # back to before this revision (other heads stay)
            db.session.execute(text("INSERT INTO customer (id, name, tier, created_at) "
                                    "VALUES (1, 'a', 'normal', '2026-01-01 00:00:00+00')"))
            db.session.execute(text(
                "INSERT INTO shop_order (id, order_ref, customer_id, items, amount_paid, currency, payment_method, "
                "paid_at) VALUES (1, 'O-1', 1, '[]', 10, 'CNY', 'alipay', '2026-01-01 00:00:00+00')"))
            for cid, created in ((1, "2026-01-01 15:59:59"), (2, "2026-01-01 16:00:00"), (3, "2026-01-01 17:00:00")):
                db.session.execute(text(
                    "INSERT INTO complaint (id, customer_id, order_id, category, description, channel, created_at) "
                    "VALUES (:id, 1, 1, 'delivery.late', 'x', 'web', :at)"), {"id": cid, "at": created + "+00"
                                                                             if backend != "sqlite" else created})
            stamp = "2026-01-01 17:30:00" + ("+00" if backend != "sqlite" else "")
            db.session.execute(text(
                "INSERT INTO payment (id, order_ref, provider, provider_payment_id, amount, currency, "
                "amount_reserved, amount_refunded, paid_at) VALUES (1, 'O-1', 'alipay', 'P-1', 10, 'CNY', 5, 5, :at)"),
                {"at": stamp})
            db.session.execute(text(
                "INSERT INTO refund (id, payment_id, provider, amount, currency, state, idempotency_key, source_key, "
                "requested_by, reason, complaint_id, attempts, queries, created_at, updated_at) VALUES "
                "(1, 1, 'alipay', 5, 'CNY', 'succeeded', 'k1', 's1', 'system', '', 'C-3', 1, 0, :at, :at)"),
                {"at": stamp})
            db.session.commit()
            upgrade(revision="heads")
            days = db.session.execute(text("SELECT id, created_day, case_category FROM complaint ORDER BY id")).all()
            assert [(str(d), c) for _, d, c in days] == [("2026-01-01", "delivery.late"),
                                                         ("2026-01-02", "delivery.late"),
                                                         ("2026-01-02", "delivery.late")]
            rollup = db.session.execute(text("SELECT day, complaints, handling_group FROM complaint_daily "
                                             "ORDER BY day")).all()
            assert [(str(d), n, g) for d, n, g in rollup] == [("2026-01-01", 1, ""), ("2026-01-02", 2, "")]
            refunds = db.session.execute(text("SELECT day, category, channel, automatic, state, refunds, amount "
                                              "FROM refund_daily")).all()
            assert [(str(r[0]), r[1], r[2], bool(r[3]), r[4], r[5], float(r[6])) for r in refunds] == [
                ("2026-01-02", "delivery.late", "web", True, "succeeded", 1, 5.0)]
            # 0130_dashboard_filters: the top rollup per day and month with the category, the refund's dimensions
            assert db.session.execute(text("SELECT count(*) FROM complaint_top_daily")).scalar() == 0  # no region
            db.session.execute(text("UPDATE complaint SET region = '上海'"))
            db.session.commit()
            downgrade(revision="0120_merge_heads")
            upgrade(revision="heads")
            tops = db.session.execute(text("SELECT period, day, category, handling_group, name, complaints "
                                           "FROM complaint_top_daily WHERE kind = 'region' "
                                           "ORDER BY period, day")).all()
            assert [(p, str(d), c, g, name, n) for p, d, c, g, name, n in tops] == [
                ("day", "2026-01-01", "delivery.late", "", "上海", 1), ("day", "2026-01-02", "delivery.late", "", "上海", 2),
                ("month", "2026-01-01", "delivery.late", "", "上海", 3)]
            counted = db.session.execute(text("SELECT counted_category, counted_group, counted_channel "
                                              "FROM refund")).one()
            assert tuple(counted) == ("delivery.late", "", "web")
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
        database.drop()
