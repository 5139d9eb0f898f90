"""`flask orders import` (all or nothing, exit 2 per bad line) and demo customers in `flask demo load`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Payment
from app.models.customer import Customer
from app.models.order import Order

HEADER = "order_ref,customer_name,customer_phone,customer_email,items,amount_paid,currency,payment_method,paid_at\n"
GOOD = 'O-100,王五,13700000003,,"[{""name"": ""杯子"", ""qty"": 1}]",25.80,CNY,alipay,2026-11-20T10:30:00+08:00\n'


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_writes_orders_with_payments_and_skips_known_ones(cli_runner, tmp_path: Path) -> None:
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(HEADER + GOOD, encoding="utf-8")
    first = cli_runner.invoke(args=["orders", "import", str(csv_file)])
    assert first.exit_code == 0 and "1 order(s) imported, 0 already known" in first.output
    payment = db.session.execute(select(Payment).where(Payment.order_ref == "O-100")).scalar_one()
    assert (str(payment.amount), payment.provider) == ("25.80", "alipay")
    again = cli_runner.invoke(args=["orders", "import", str(csv_file)])
    assert "0 order(s) imported, 1 already known" in again.output


def test_bad_lines_are_named_and_nothing_is_written(cli_runner, tmp_path: Path) -> None:
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(HEADER + GOOD
                        + "O-101,赵六,,,[],abc,CNY,alipay,2026-11-20T10:30:00+08:00\n"
                        + "O-102,赵六,13600000004,,[],-1,CNY,alipay,2026-11-20T10:30:00+08:00\n"
                        + "O-103,赵六,13600000004,,[],5,CNY,paypal,2026-11-20T10:30:00+08:00\n"
                        + "O-104,赵六,13600000004,,[],5,CNY,alipay,yesterday\n"
                        + "O-105,赵六,13600000004,,not json,5,CNY,alipay,2026-11-20T10:30:00+08:00\n",
                        encoding="utf-8")
    result = cli_runner.invoke(args=["orders", "import", str(csv_file)])
    assert result.exit_code == 2
    for expected in (":line 3: give customer_phone or customer_email",
                     ":line 4: amount_paid must be positive with at most 2 decimals",
                     ":line 5: payment_method must be one of alipay, wechat, stripe, not 'paypal'",
                     ":line 6: paid_at 'yesterday' is not an ISO time",
                     ":line 7: items must be a JSON list like",
                     "nothing was imported; fix the lines listed and import again"):
        assert expected in result.output, expected
    assert _count(Order) == 0 and _count(Customer) == 0


def test_missing_columns_are_named(cli_runner, tmp_path: Path) -> None:
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text("order_ref,amount_paid\nO-1,5\n", encoding="utf-8")
    result = cli_runner.invoke(args=["orders", "import", str(csv_file)])
    assert result.exit_code == 2 and "the header lacks the column(s) customer_name" in result.output


def test_demo_load_adds_customers_and_orders_once(cli_runner, driver) -> None:
    first = cli_runner.invoke(args=["demo", "load", "--password", "pw"])
    assert "demo customers: 4 order(s) added" in first.output, first.output
    second = cli_runner.invoke(args=["demo", "load", "--password", "pw"])
    assert "demo customers" not in second.output and "already loaded" in second.output
    # 4 orders of 2 sign-in customers, plus the dashboard's demo history (360 closed complaints, 40 customers)
    assert _count(Order) == 4 + 360 and _count(Customer) == 2 + 40
