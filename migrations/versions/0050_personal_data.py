"""Audit: personal data kept outside the hashed event payloads (erasable), per customer.

Revision ID: 0050_personal_data
Revises: 0012_merge_heads
Create Date: 2026-11-22 04:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0050_personal_data"
down_revision = "0012_merge_heads"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "personal_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=80), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data")),
        sa.UniqueConstraint("token", name=op.f("uq_personal_data_token")),
    )
    with op.batch_alter_table("personal_data", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_data_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_personal_data_instance_id"), ["instance_id"], unique=False)


def downgrade():
    op.drop_table("personal_data")
