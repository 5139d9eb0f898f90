"""Outbox delivery: a 'sending' state, attempts, backoff, lease, error and rendered text on notification;
the request fingerprint of an app submission on complaint (Idempotency-Key reuse with another body).

Revision ID: 0080_outbox_delivery
Revises: 0070_merge_heads
Create Date: 2026-11-22 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0080_outbox_delivery"
down_revision = "0070_merge_heads"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('queued', 'sent', 'failed')"
NEW_STATUSES = "status IN ('queued', 'sending', 'sent', 'failed')"


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rendered", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sent_by", sa.String(length=40), nullable=True))
        batch_op.drop_constraint(op.f("ck_notification_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_status_known"), NEW_STATUSES)
        batch_op.create_check_constraint(op.f("ck_notification_attempts_not_negative"), "attempts >= 0")
        batch_op.create_index("ix_notification_due", ["status", "next_attempt_at", "id"], unique=False)
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_column("request_sha256")
    op.execute("UPDATE notification SET status = 'queued' WHERE status = 'sending'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_due")
        batch_op.drop_constraint(op.f("ck_notification_attempts_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_notification_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_status_known"), OLD_STATUSES)
        for column in ("sent_by", "rendered", "last_error", "lease_until", "next_attempt_at", "attempts"):
            batch_op.drop_column(column)
