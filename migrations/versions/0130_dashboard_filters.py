"""Dashboard filters: complaint_top_daily carries the category, group and a period (day or month), and each
refund remembers the (category, group, channel) it is counted under in refund_daily.

Revision ID: 0130_dashboard_filters
Revises: 0120_merge_heads
Create Date: 2026-11-22 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0130_dashboard_filters"
down_revision = "0120_merge_heads"
branch_labels = None
depends_on = None

REFUND_COLUMNS = ("counted_category", "counted_group", "counted_channel")
TOP_KEY = ["kind", "period", "day", "category", "handling_group", "channel", "name"]


def _create_top_table(columns):
    op.create_table(
        "complaint_top_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        *columns,
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('product', 'region')", name=op.f("ck_complaint_top_daily_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_top_daily")),
    )


def upgrade():
    op.drop_table("complaint_top_daily")
    _create_top_table([
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("handling_group", sa.String(length=80), nullable=False),
    ])
    with op.batch_alter_table("complaint_top_daily", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_complaint_top_daily_key", TOP_KEY)
        batch_op.create_check_constraint(op.f("ck_complaint_top_daily_period_known"),
                                         "period IN ('day', 'month')")
        batch_op.create_check_constraint(op.f("ck_complaint_top_daily_complaints_non_negative"), "complaints >= 0")
        batch_op.create_index("ix_complaint_top_daily_category",
                              ["kind", "period", "category", "day", "handling_group", "channel", "name",
                               "complaints"], unique=False)
        batch_op.create_index("ix_complaint_top_daily_day",
                              ["kind", "period", "day", "category", "handling_group", "channel", "name",
                               "complaints"], unique=False)
    with op.batch_alter_table("refund", schema=None) as batch_op:
        for name in REFUND_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=80), nullable=True))
    # fill from the rows: each complaint counted once per day and once per month, under its current dimensions
    sqlite = op.get_bind().dialect.name == "sqlite"
    month = "date(created_day, 'start of month')" if sqlite else "CAST(date_trunc('month', created_day) AS DATE)"
    for kind in ("product", "region"):
        for period, day in (("day", "created_day"), ("month", month)):
            op.execute(
                f"INSERT INTO complaint_top_daily (kind, period, day, category, handling_group, channel, name, "
                f"complaints) SELECT '{kind}', '{period}', {day}, coalesce(case_category, category), "
                f"coalesce(handling_group, ''), channel, {kind}, count(*) FROM complaint "
                f"WHERE created_day IS NOT NULL AND {kind} IS NOT NULL "
                f"GROUP BY {day}, coalesce(case_category, category), coalesce(handling_group, ''), channel, {kind}")
    # refunds already counted: under their complaint's current dimensions ('' without a complaint)
    match = "refund.complaint_id = 'C-' || CAST(c.id AS VARCHAR(20)) AND c.created_day IS NOT NULL"
    for column, expression in (("counted_category", "coalesce(c.case_category, c.category)"),
                               ("counted_group", "coalesce(c.handling_group, '')"),
                               ("counted_channel", "c.channel")):
        op.execute(f"UPDATE refund SET {column} = coalesce((SELECT {expression} FROM complaint c WHERE {match}), '')")


def downgrade():
    with op.batch_alter_table("refund", schema=None) as batch_op:
        for name in reversed(REFUND_COLUMNS):
            batch_op.drop_column(name)
    op.drop_table("complaint_top_daily")
    _create_top_table([sa.Column("day", sa.Date(), nullable=False)])
    with op.batch_alter_table("complaint_top_daily", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_complaint_top_daily_key", ["kind", "day", "channel", "name"])
    for kind in ("product", "region"):
        op.execute(f"INSERT INTO complaint_top_daily (kind, day, channel, name, complaints) "
                   f"SELECT '{kind}', created_day, channel, {kind}, count(*) FROM complaint "
                   f"WHERE created_day IS NOT NULL AND {kind} IS NOT NULL GROUP BY created_day, channel, {kind}")
