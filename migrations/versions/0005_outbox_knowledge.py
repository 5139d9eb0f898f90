"""Notification outbox and knowledge-base cases (issue 5: the complaint and refund processes).

Revision ID: 0005_outbox_knowledge
Revises: 0002_classification
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005_outbox_knowledge"
down_revision = "0002_classification"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=120), nullable=False),
        sa.Column("customer_id", sa.String(length=80), nullable=True),
        sa.Column("complaint_id", sa.String(length=80), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name=op.f("ck_notification_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_idempotency_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_customer", ["customer_id", "created_at"], unique=False)
        batch_op.create_index("ix_notification_outbox", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_complaint_id"), ["complaint_id"], unique=False)
    op.create_table(
        "knowledge_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("resolution", sa.String(length=80), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_case")),
        sa.UniqueConstraint("complaint_id", name=op.f("uq_knowledge_case_complaint_id")),
    )
    with op.batch_alter_table("knowledge_case", schema=None) as batch_op:
        batch_op.create_index("ix_knowledge_case_category", ["category", "created_at"], unique=False)


def downgrade():
    op.drop_table("knowledge_case")
    op.drop_table("notification")
