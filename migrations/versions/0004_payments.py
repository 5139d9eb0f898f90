"""Payments: paid orders, refunds with their history, processed notifications, alerts.

Revision ID: 0004_payments
Revises: 0002_classification
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0004_payments"
down_revision = "0002_classification"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade():
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=80), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=80), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_reserved", MONEY, nullable=False),
        sa.Column("amount_refunded", MONEY, nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_amount_positive")),
        sa.CheckConstraint("amount_reserved >= 0 AND amount_reserved <= amount",
                           name=op.f("ck_payment_reserved_within_paid")),
        sa.CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount_reserved",
                           name=op.f("ck_payment_refunded_within_reserved")),
        sa.CheckConstraint("provider IN ('alipay', 'wechat', 'stripe')", name=op.f("ck_payment_provider_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("provider", "provider_payment_id", name="uq_payment_provider_payment"),
    )
    op.create_index("ix_payment_order_ref", "payment", ["order_ref"])

    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=80), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("complaint_id", sa.String(length=80), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refund_amount_positive")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_refund_attempts_non_negative")),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_refund_payment_id_payment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("provider", "idempotency_key", name="uq_refund_provider_key"),
        sa.UniqueConstraint("source_key", name=op.f("uq_refund_source_key")),
    )
    op.create_index("ix_refund_payment_id", "refund", ["payment_id"])
    op.create_index("ix_refund_provider_refund_id", "refund", ["provider_refund_id"])
    op.create_index("ix_refund_complaint_id", "refund", ["complaint_id"])
    op.create_index("ix_refund_instance_id", "refund", ["instance_id"])
    op.create_index("ix_refund_state_updated", "refund", ["state", "updated_at"])
    op.create_index("ix_refund_provider_state", "refund", ["provider", "state"])
    op.create_index("ix_refund_created", "refund", ["created_at"])

    op.create_table(
        "refund_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refund.id"], name=op.f("fk_refund_event_refund_id_refund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_event")),
    )
    op.create_index("ix_refund_event_refund_id", "refund_event", ["refund_id"])

    op.create_table(
        "gateway_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_notification")),
        sa.UniqueConstraint("provider", "event_id", name="uq_gateway_notification_event"),
    )
    op.create_index("ix_gateway_notification_refund_id", "gateway_notification", ["refund_id"])

    op.create_table(
        "payment_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_alert")),
    )
    op.create_index("ix_payment_alert_refund_id", "payment_alert", ["refund_id"])
    op.create_index("ix_payment_alert_open", "payment_alert", ["resolved_at", "created_at"])


def downgrade():
    for table in ("payment_alert", "gateway_notification", "refund_event", "refund", "payment"):
        op.drop_table(table)
