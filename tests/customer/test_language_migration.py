"""0140_customer_language: customers (with orders) get a nullable, checked language column; the downgrade
removes it."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests.conftest import BACKENDS, _Database, make_app


def _columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("customer")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_language_column_upgrades_and_downgrades(backend: str, tmp_path: Path) -> None:
    database = _Database(backend, tmp_path)
    app = make_app(database, tmp_path)
    try:
        with app.app_context():
            downgrade(revision="0130_dashboard_filters")
            db.session.remove()
            assert "language" not in _columns() and "tier" in _columns()
            db.session.execute(text("INSERT INTO customer (id, name, email, tier, created_at) "
                                    "VALUES (1, 'a', 'a@example.com', 'vip', '2026-01-01 00:00:00+00')"))
            db.session.execute(text(   # a row that refers to the customer: SQLite may not copy the table away
                "INSERT INTO shop_order (id, order_ref, customer_id, items, amount_paid, currency, payment_method, "
                "paid_at) VALUES (1, 'O-1', 1, '[]', 10, 'CNY', 'alipay', '2026-01-01 00:00:00+00')"))
            db.session.commit()
            upgrade(revision="heads")
            assert db.session.execute(text("SELECT name, email, tier, language FROM customer")).one() == (
                "a", "a@example.com", "vip", None), "existing customers keep their rows, language unset"
            db.session.execute(text("UPDATE customer SET language = 'en'"))
            db.session.commit()
            with pytest.raises(IntegrityError):
                db.session.execute(text("UPDATE customer SET language = 'fr'"))
                db.session.commit()
            db.session.rollback()
            with pytest.raises(IntegrityError):   # the tier check survives the batch copy on SQLite
                db.session.execute(text("UPDATE customer SET tier = 'gold'"))
                db.session.commit()
            db.session.rollback()
            downgrade(revision="0130_dashboard_filters")
            db.session.remove()
            assert "language" not in _columns()
            assert db.session.execute(text("SELECT name, tier FROM customer")).one() == ("a", "vip")
            db.session.remove()
            upgrade(revision="heads")   # and up again, as `flask db upgrade` after a rollback would
            assert "language" in _columns()
    finally:
        with app.app_context():
            db.engine.dispose()
        database.drop()
