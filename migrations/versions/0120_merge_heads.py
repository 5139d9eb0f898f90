"""Merge the outbox, workload, dashboard and alerts/knowledge branches into one head.

Revision ID: 0120_merge_heads
Revises: 0080_outbox_delivery, 0090_workload_counts, 0100_dashboard_rollups, 0110_alerts_knowledge
"""

revision = "0120_merge_heads"
down_revision = ("0080_outbox_delivery", "0090_workload_counts", "0100_dashboard_rollups",
                 "0110_alerts_knowledge")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
