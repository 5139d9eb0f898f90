"""Dashboard: complaint facts (shop day, case category, group, product, region, SLA and CSAT), order region,
and the daily rollup tables complaint_daily and refund_daily.

Revision ID: 0100_dashboard_rollups
Revises: 0070_merge_heads
Create Date: 2026-11-22 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0100_dashboard_rollups"
down_revision = "0070_merge_heads"
branch_labels = None
depends_on = None

COMPLAINT_COLUMNS = {
    "created_day": sa.Date,
    "case_category": lambda: sa.String(length=80),
    "handling_group": lambda: sa.String(length=80),
    "product": lambda: sa.String(length=120),
    "region": lambda: sa.String(length=40),
    "response_due_at": lambda: sa.DateTime(timezone=True),
    "resolution_due_at": lambda: sa.DateTime(timezone=True),
    "first_response_at": lambda: sa.DateTime(timezone=True),
    "resolved_at": lambda: sa.DateTime(timezone=True),
    "response_seconds": sa.Integer,
    "resolution_seconds": sa.Integer,
    "confirmed_at": lambda: sa.DateTime(timezone=True),
    "satisfied": sa.Boolean,
    "csat": sa.Integer,
}
FILTERS = ["created_day", "case_category", "handling_group", "channel"]
COMPLAINT_INDEXES = {
    "ix_complaint_dashboard": [*FILTERS, "response_seconds", "resolution_seconds", "product", "region"],
    "ix_complaint_by_response": ["response_seconds", *FILTERS],
    "ix_complaint_by_resolution": ["resolution_seconds", *FILTERS],
    "ix_complaint_by_product": ["product", *FILTERS],
    "ix_complaint_by_region": ["region", *FILTERS],
    "ix_complaint_unanswered": ["first_response_at", "response_due_at", *FILTERS],
    "ix_complaint_unresolved": ["resolved_at", "resolution_due_at", *FILTERS],
    "ix_complaint_dimensions": ["id", *FILTERS[1:]],
}

MEASURES = ("complaints", "responded", "resolved", "response_met", "response_late", "resolution_met",
            "resolution_late", "rated", "csat_sum", "satisfied_72h")


def upgrade():
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=40), nullable=True))
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        for name, kind in COMPLAINT_COLUMNS.items():
            batch_op.add_column(sa.Column(name, kind(), nullable=True))
        for name, columns in COMPLAINT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
        batch_op.create_check_constraint(op.f("ck_complaint_csat_range"), "csat IS NULL OR csat BETWEEN 1 AND 5")
    op.create_table(
        "complaint_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("handling_group", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES],
        sa.Column("response_seconds_sum", sa.BigInteger(), nullable=False),
        sa.Column("resolution_seconds_sum", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("complaints >= 0", name=op.f("ck_complaint_daily_complaints_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_daily")),
        sa.UniqueConstraint("day", "category", "handling_group", "channel", name="uq_complaint_daily_key"),
    )
    op.create_table(
        "refund_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("handling_group", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("refunds >= 0", name=op.f("ck_refund_daily_refunds_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_daily")),
        sa.UniqueConstraint("day", "category", "handling_group", "channel", "automatic", "state",
                            name="uq_refund_daily_key"),
    )
    op.create_table(
        "complaint_top_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('product', 'region')", name=op.f("ck_complaint_top_daily_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_top_daily")),
        sa.UniqueConstraint("kind", "day", "channel", "name", name="uq_complaint_top_daily_key"),
    )
    op.create_index("ix_complaint_daily_category", "complaint_daily", ["category", "day"], unique=False)
    op.create_index("ix_complaint_daily_group", "complaint_daily", ["handling_group", "day"], unique=False)
    # complaints written before this revision: their day (Asia/Shanghai is UTC+8 all year), category and
    # their count in the rollup (their later facts were not recorded; they count from now on)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE complaint SET created_day = date(created_at, '+8 hours'), case_category = category")
        refund_day = "date(r.created_at, '+8 hours')"
    else:
        op.execute("UPDATE complaint SET created_day = (created_at AT TIME ZONE 'Asia/Shanghai')::date, "
                   "case_category = category")
        refund_day = "(r.created_at AT TIME ZONE 'Asia/Shanghai')::date"
    op.execute(f"INSERT INTO refund_daily (day, category, handling_group, channel, automatic, state, refunds, amount) "
               f"SELECT {refund_day}, coalesce(c.case_category, ''), '', coalesce(c.channel, ''), "
               f"r.requested_by = 'system', r.state, count(*), sum(r.amount) FROM refund r "
               f"LEFT JOIN complaint c ON r.complaint_id = 'C-' || CAST(c.id AS VARCHAR(20)) "
               f"GROUP BY {refund_day}, coalesce(c.case_category, ''), coalesce(c.channel, ''), "
               f"r.requested_by = 'system', r.state")
    zeros = ", ".join(["0"] * (len(MEASURES) + 1))
    op.execute(f"INSERT INTO complaint_daily (day, category, handling_group, channel, complaints, "
               f"{', '.join(m for m in MEASURES if m != 'complaints')}, response_seconds_sum, resolution_seconds_sum) "
               f"SELECT created_day, case_category, '', channel, count(*), {zeros} FROM complaint "
               f"GROUP BY created_day, case_category, channel")


def downgrade():
    op.drop_index("ix_complaint_daily_group", table_name="complaint_daily")
    op.drop_index("ix_complaint_daily_category", table_name="complaint_daily")
    op.drop_table("complaint_daily")
    op.drop_table("refund_daily")
    op.drop_table("complaint_top_daily")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_complaint_csat_range"), type_="check")
        for name in COMPLAINT_INDEXES:
            batch_op.drop_index(name)
        for name in reversed(list(COMPLAINT_COLUMNS)):
            batch_op.drop_column(name)
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_column("region")
