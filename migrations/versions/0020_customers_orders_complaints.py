"""Customers, their sign-in links and API tokens, orders, complaints and complaint photos.

Revision ID: 0020_customers
Revises: 0012_merge_heads
"""
from alembic import op
import sqlalchemy as sa

revision = "0020_customers"
down_revision = "0012_merge_heads"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer"),
        sa.UniqueConstraint("email", name="uq_customer_email"),
        sa.UniqueConstraint("phone", name="uq_customer_phone"),
        sa.CheckConstraint("tier IN ('normal', 'vip')", name="ck_customer_tier_known"),
    )
    op.create_table(
        "used_login_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("used_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_used_login_link"),
        sa.UniqueConstraint("token_id", name="uq_used_login_link_token_id"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name="fk_used_login_link_customer_id_customer"),
    )
    op.create_index("ix_used_login_link_customer_id", "used_login_link", ["customer_id"])
    op.create_table(
        "customer_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customer_token"),
        sa.UniqueConstraint("token_sha256", name="uq_customer_token_token_sha256"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name="fk_customer_token_customer_id_customer"),
    )
    op.create_index("ix_customer_token_customer_id", "customer_token", ["customer_id"])
    op.create_table(
        "shop_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(80), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("amount_paid", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_method", sa.String(20), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("paid_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shop_order"),
        sa.UniqueConstraint("order_ref", name="uq_shop_order_order_ref"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name="fk_shop_order_customer_id_customer"),
        sa.CheckConstraint("amount_paid > 0", name="ck_shop_order_amount_positive"),
        sa.CheckConstraint("payment_method IN ('alipay', 'wechat', 'stripe')", name="ck_shop_order_method_known"),
    )
    op.create_index("ix_shop_order_customer", "shop_order", ["customer_id", "paid_at"])
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(120), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(120), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint"),
        sa.UniqueConstraint("customer_id", "idempotency_key", name="uq_complaint_customer_key"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name="fk_complaint_customer_id_customer"),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"], name="fk_complaint_order_id_shop_order"),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name="fk_complaint_instance_id_process_instance"),
    )
    op.create_index("ix_complaint_customer", "complaint", ["customer_id", "created_at"])
    op.create_index("ix_complaint_order_category", "complaint", ["order_id", "category"])
    op.create_index("ix_complaint_instance_id", "complaint", ["instance_id"])
    op.create_table(
        "complaint_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_attachment"),
        sa.UniqueConstraint("stored_name", name="uq_complaint_attachment_stored_name"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"],
                                name="fk_complaint_attachment_complaint_id_complaint"),
    )
    op.create_index("ix_complaint_attachment_complaint_id", "complaint_attachment", ["complaint_id"])


def downgrade():
    for table in ("complaint_attachment", "complaint", "shop_order", "customer_token", "used_login_link",
                  "customer"):
        op.drop_table(table)
